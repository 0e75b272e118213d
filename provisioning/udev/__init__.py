"""udev rules for the till peripherals (99-kassa.rules), shipped as package data."""
