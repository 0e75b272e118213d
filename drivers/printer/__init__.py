"""Receipt printers (python-escpos): usb, network, file, dummy and a simulator writing to var/."""
