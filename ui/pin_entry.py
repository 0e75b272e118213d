"""The PIN keypad's behaviour, shared by the login screen and the manager-override dialog, so
both take the same keys, cap the PIN at the same length, mask it the same way and say the
same about wrong PINs: how many tries are left, and a lockout counted down to the second."""

from __future__ import annotations

import math
import time
from typing import Any

from kivy.clock import Clock

from firmware.errors import PinEntryLockedFor, TillError, UserLocked, WrongPinLocked
from ui.errors import error_text
from ui.i18n import _

MAX_PIN_DIGITS = 12
MASK = "\u2022"  # •: the UI font (Roboto) has it; ● (U+25CF) drew as empty boxes
LOCKOUTS = (PinEntryLockedFor, WrongPinLocked, UserLocked)


def mask(pin: str) -> str:
    return " ".join(MASK * len(pin))


class PinEntry:
    """Mixin for a Kivy widget with a `pin_mask` StringProperty and a `submit()` method.

    `show_feedback(text)` sets whichever line the widget shows errors on; the line has a fixed
    place, so nothing that takes touches moves when it appears or goes."""

    pin: str
    pin_mask: str
    _locked_until: float = 0.0
    _countdown: Any = None

    def key(self, key: str) -> None:
        if key == "C":
            self.pin = ""
        elif key == "OK":
            self.submit()
            return
        elif len(self.pin) < MAX_PIN_DIGITS:
            self.pin += key
        if not self.locked:
            self.show_feedback("")
        self.pin_mask = mask(self.pin)

    @property
    def locked(self) -> bool:
        return self._locked_until > time.monotonic()

    def refused(self, error: TillError) -> None:
        """A refused PIN: the error's words; a lockout is counted down every second."""
        self.pin, self.pin_mask = "", ""
        seconds = error.params.get("seconds") if isinstance(error, LOCKOUTS) else None
        if isinstance(seconds, int) and seconds > 0:
            self._locked_until = time.monotonic() + seconds
            self.show_feedback(error_text(error))
            if self._countdown is None:
                self._countdown = Clock.schedule_interval(self._tick, 0.25)
            return
        self.show_feedback(error_text(error))

    def _tick(self, _dt: float) -> bool | None:
        left = math.ceil(self._locked_until - time.monotonic())
        if left > 0:
            self.show_feedback(error_text(PinEntryLockedFor(left)))
            return None
        self._countdown = None
        self.show_feedback(_("You can enter the PIN again"))
        return False

    def stop_countdown(self) -> None:
        if self._countdown is not None:
            self._countdown.cancel()
            self._countdown = None

    def submit(self) -> None:
        raise NotImplementedError

    def show_feedback(self, text: str) -> None:
        raise NotImplementedError
