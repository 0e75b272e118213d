"""Turns a scanner's key events (as the kernel sends them) into complete barcodes.

Pure: no device, no thread, no clock but the events' own timestamps, so it is tested with
the exact event streams a scanner produces. Rules:
- only EV_KEY presses (value 1) type; releases (0) only matter for modifiers; auto-repeat
  (2) is ignored, since a scanner never means a key twice without releasing it;
- Shift, AltGr (right Alt) and Caps Lock select the layout's level; Ctrl+key gives the ASCII
  control character (Ctrl+] is GS); left Alt + keypad digits is the "Alt mode" some scanners
  use for characters the layout lacks (Alt+0nnn: cp1252, Alt+nnn: cp437, as on Windows);
- a code ends on Enter / keypad Enter / Ctrl+M or the configured suffix key;
- the group separator GS (0x1d, GS1 codes) arrives as Ctrl+] or the configured gs_key
  (default KEY_F8: program the scanner to send F8 for GS when its layout has no "]" key);
- a pause longer than timeout_ms between keys drops the partial code (a half-read scan, or
  someone leaning on a key), as does a code longer than MAX_LENGTH.
"""

from __future__ import annotations

from typing import Protocol

from evdev import ecodes

from drivers.scanner.layouts import layout as get_layout

MAX_LENGTH = 512
GS = "\x1d"
KEEP_CONTROLS = {"\x1d", "\x1e", "\x04"}  # GS, RS, EOT: ISO/IEC 15434 data carriers

SHIFT = {ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT}
CTRL = {ecodes.KEY_LEFTCTRL, ecodes.KEY_RIGHTCTRL}
ALT, ALTGR = ecodes.KEY_LEFTALT, ecodes.KEY_RIGHTALT
ENTERS = {ecodes.KEY_ENTER, ecodes.KEY_KPENTER}
KEYPAD_DIGITS = {getattr(ecodes, f"KEY_KP{d}"): str(d) for d in range(10)}


class KeyEvent(Protocol):
    sec: int
    usec: int
    type: int
    code: int
    value: int


def key_code(name: str) -> int:
    """The evdev code of a key name such as 'KEY_ENTER'; ValueError for an unknown one."""
    code = ecodes.ecodes.get(name) if name.startswith("KEY_") else None
    if not isinstance(code, int):
        raise ValueError(f"unknown key name {name!r} (use evdev names such as KEY_ENTER, KEY_TAB)")
    return code


class ScanDecoder:
    """Feed events one by one; `feed` returns a complete code when one ends."""

    def __init__(self, layout: str = "us", *, suffix_key: str = "KEY_ENTER", gs_key: str = "KEY_F8",
                 timeout_ms: int = 200) -> None:
        table = get_layout(layout)
        self.layout = table.name
        self._keys = {key_code(name): chars for name, chars in table.table().items()}
        self._dead = {(key_code(name), level) for name, level in table.dead}
        self._enders = ENTERS | {key_code(suffix_key)}
        self._gs_key = key_code(gs_key) if gs_key else None
        self._timeout = timeout_ms / 1000
        self._held: set[int] = set()
        self._caps = False
        self._buffer: list[str] = []
        self._alt_digits = ""
        self._dead_pending = False
        self._overflow = False  # garbage: ignore everything up to the next end key
        self._last = 0.0
        self.dropped = 0  # partial codes thrown away (time-out or garbage)

    @property
    def partial(self) -> str:
        return "".join(self._buffer)

    def drop_partial(self) -> None:
        if self._buffer or self._alt_digits:
            self.dropped += 1
        self._buffer.clear()
        self._alt_digits = ""
        self._dead_pending = False
        self._overflow = False

    def reset(self) -> None:
        """Forget everything, modifiers included (the device went away)."""
        self.drop_partial()
        self._held.clear()
        self._caps = False

    def feed(self, event: KeyEvent) -> str | None:
        if event.type != ecodes.EV_KEY or event.value == 2:
            return None
        code = event.code
        if event.value == 0:
            self._held.discard(code)
            if code == ALT and self._alt_digits:
                self._type(_alt_char(self._alt_digits))
                self._alt_digits = ""
            return None
        if event.value != 1:
            return None
        now = event.sec + event.usec / 1_000_000
        if (self._buffer or self._alt_digits or self._overflow) and now - self._last > self._timeout:
            self.drop_partial()
        self._last = now
        self._held.add(code)
        return self._press(code)

    def _press(self, code: int) -> str | None:
        if code in SHIFT or code in CTRL or code in (ALT, ALTGR):
            return None
        if code == ecodes.KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        ctrl = bool(self._held & CTRL)
        if code in self._enders or (ctrl and code in (ecodes.KEY_M, ecodes.KEY_J)):
            return self._finish()
        if code == self._gs_key or (ctrl and code == ecodes.KEY_RIGHTBRACE):
            self._type(GS)
            return None
        if ALT in self._held and code in KEYPAD_DIGITS:
            self._alt_digits += KEYPAD_DIGITS[code]
            return None
        chars = self._keys.get(code)
        if chars is None:
            return None  # function keys, arrows...: nothing a barcode holds
        level = 2 if ALTGR in self._held else int(bool(self._held & SHIFT))
        char = chars[level]
        if level < 2 and self._caps and chars[0].isalpha() and chars[1] == chars[0].upper():
            char = chars[1 - level]
        if ctrl:
            self._type(_control(chars[0]))
            return None
        if self._dead_pending:
            self._dead_pending = False
            if char == " ":
                return None  # dead key + space: the accent itself, already typed
        self._type(char)
        if (code, level) in self._dead:
            self._dead_pending = True
        return None

    def _type(self, char: str) -> None:
        if not char or self._overflow or (char < " " and char not in KEEP_CONTROLS):
            return
        if len(self._buffer) >= MAX_LENGTH:
            self.drop_partial()
            self._overflow = True
            return
        self._buffer.append(char)

    def _finish(self) -> str | None:
        code = "".join(self._buffer)
        self._buffer.clear()
        self._dead_pending = False
        if self._overflow:
            self._overflow = False
            return None
        return code or None


def _control(char: str) -> str:
    upper = char.upper()
    if len(upper) == 1 and "@" <= upper <= "_":
        return chr(ord(upper) - 64)
    return ""


def _alt_char(digits: str) -> str:
    value = int(digits) % 256
    if value < 128:
        return chr(value)
    return bytes([value]).decode("cp1252" if digits.startswith("0") else "cp437", "replace")
