"""Hardware drivers (drawer, scanner, printer) and their simulators. Imports nothing from firmware."""
