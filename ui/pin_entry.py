"""The PIN keypad's behaviour, shared by the login screen and the manager-override dialog, so
both take the same keys, cap the PIN at the same length and mask it the same way."""

from __future__ import annotations

MAX_PIN_DIGITS = 12


class PinEntry:
    """Mixin for a Kivy widget with a `pin_mask` StringProperty and a `submit()` method.

    `clear_feedback()` empties whichever line the widget shows errors on."""

    pin: str
    pin_mask: str

    def key(self, key: str) -> None:
        if key == "C":
            self.pin = ""
        elif key == "OK":
            self.submit()
            return
        elif len(self.pin) < MAX_PIN_DIGITS:
            self.pin += key
        self.clear_feedback()
        self.pin_mask = "\u25cf " * len(self.pin)

    def submit(self) -> None:
        raise NotImplementedError

    def clear_feedback(self) -> None:
        raise NotImplementedError
