"""Barcode scanners: USB HID keyboard-emulation scanners read through evdev, and a simulator."""
