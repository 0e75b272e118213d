"""Cash drawers: a GPIO relay (gpiozero), the printer's kick port, and a simulator."""
