"""Kassa till core: catalogue, tickets, the fiscal journal, the till kernel and its services."""
