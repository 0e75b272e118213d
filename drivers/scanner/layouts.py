"""Keyboard layouts a scanner may be set to emulate: which character each key gives.

A keyboard-emulation scanner sends the key that would type each character on a keyboard of
the layout it is programmed for, so the host must read keys with the same layout. Rows are
listed by physical key position (Linux key names); "\\0" marks a position with no character.
Dead keys (^ ´ ` ¨ ~ on European layouts) are taken literally: scanners send them followed
by a space, which the decoder swallows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROW_KEYS = (
    ("KEY_GRAVE", "KEY_1", "KEY_2", "KEY_3", "KEY_4", "KEY_5", "KEY_6", "KEY_7", "KEY_8", "KEY_9",
     "KEY_0", "KEY_MINUS", "KEY_EQUAL"),
    ("KEY_Q", "KEY_W", "KEY_E", "KEY_R", "KEY_T", "KEY_Y", "KEY_U", "KEY_I", "KEY_O", "KEY_P",
     "KEY_LEFTBRACE", "KEY_RIGHTBRACE"),
    ("KEY_A", "KEY_S", "KEY_D", "KEY_F", "KEY_G", "KEY_H", "KEY_J", "KEY_K", "KEY_L",
     "KEY_SEMICOLON", "KEY_APOSTROPHE", "KEY_BACKSLASH"),
    ("KEY_102ND", "KEY_Z", "KEY_X", "KEY_C", "KEY_V", "KEY_B", "KEY_N", "KEY_M", "KEY_COMMA",
     "KEY_DOT", "KEY_SLASH"),
)

KEYPAD = {
    "KEY_KP0": "0", "KEY_KP1": "1", "KEY_KP2": "2", "KEY_KP3": "3", "KEY_KP4": "4",
    "KEY_KP5": "5", "KEY_KP6": "6", "KEY_KP7": "7", "KEY_KP8": "8", "KEY_KP9": "9",
    "KEY_KPDOT": ".", "KEY_KPPLUS": "+", "KEY_KPMINUS": "-", "KEY_KPASTERISK": "*",
    "KEY_KPSLASH": "/", "KEY_SPACE": " ",
}


@dataclass(frozen=True)
class Layout:
    name: str
    rows: tuple[str, str, str, str]
    shifted: tuple[str, str, str, str]
    altgr: dict[str, str] = field(default_factory=dict)
    dead: frozenset[tuple[str, int]] = frozenset()  # (key, level 0/1/2)

    def table(self) -> dict[str, tuple[str, str, str]]:
        """key name -> (plain, shifted, altgr) characters ('' where the key gives none)."""
        out: dict[str, tuple[str, str, str]] = {}
        for keys, plain, shifted in zip(ROW_KEYS, self.rows, self.shifted, strict=True):
            if not len(keys) == len(plain) == len(shifted):
                raise ValueError(f"layout {self.name}: row {plain!r} does not match its keys")
            for key, p, s in zip(keys, plain, shifted, strict=True):
                out[key] = (p.strip("\0"), s.strip("\0"), self.altgr.get(key, ""))
        for key, char in KEYPAD.items():
            out[key] = (char, char, "")
        return out


LAYOUTS = {
    "us": Layout(
        "us",
        ("`1234567890-=", "qwertyuiop[]", "asdfghjkl;'\\", "\\zxcvbnm,./"),
        ("~!@#$%^&*()_+", "QWERTYUIOP{}", 'ASDFGHJKL:"|', "|ZXCVBNM<>?"),
    ),
    "de": Layout(
        "de",
        ("^1234567890ß´", "qwertzuiopü+", "asdfghjklöä#", "<yxcvbnm,.-"),
        ("°!\"§$%&/()=?`", "QWERTZUIOPÜ*", "ASDFGHJKLÖÄ'", ">YXCVBNM;:_"),
        {"KEY_2": "²", "KEY_3": "³", "KEY_7": "{", "KEY_8": "[", "KEY_9": "]", "KEY_0": "}",
         "KEY_MINUS": "\\", "KEY_Q": "@", "KEY_E": "€", "KEY_RIGHTBRACE": "~", "KEY_102ND": "|",
         "KEY_M": "µ"},
        frozenset({("KEY_GRAVE", 0), ("KEY_EQUAL", 0), ("KEY_EQUAL", 1)}),
    ),
    "fr": Layout(
        "fr",
        ("²&é\"'(-è_çà)=", "azertyuiop^$", "qsdfghjklmù*", "<wxcvbn,;:!"),
        ("\0" + "1234567890°+", "AZERTYUIOP¨£", "QSDFGHJKLM%µ", ">WXCVBN?./§"),
        {"KEY_2": "~", "KEY_3": "#", "KEY_4": "{", "KEY_5": "[", "KEY_6": "|", "KEY_7": "`",
         "KEY_8": "\\", "KEY_9": "^", "KEY_0": "@", "KEY_MINUS": "]", "KEY_EQUAL": "}",
         "KEY_E": "€", "KEY_RIGHTBRACE": "¤"},
        frozenset({("KEY_LEFTBRACE", 0), ("KEY_LEFTBRACE", 1), ("KEY_2", 2), ("KEY_7", 2)}),
    ),
    "be": Layout(
        "be",
        ("²&é\"'(§è!çà)-", "azertyuiop^$", "qsdfghjklmùµ", "<wxcvbn,;:="),
        ("³1234567890°_", "AZERTYUIOP¨*", "QSDFGHJKLM%£", ">WXCVBN?./+"),
        {"KEY_1": "|", "KEY_2": "@", "KEY_3": "#", "KEY_6": "^", "KEY_9": "{", "KEY_0": "}",
         "KEY_E": "€", "KEY_LEFTBRACE": "[", "KEY_RIGHTBRACE": "]", "KEY_APOSTROPHE": "´",
         "KEY_BACKSLASH": "`", "KEY_102ND": "\\", "KEY_EQUAL": "~"},
        frozenset({("KEY_LEFTBRACE", 0), ("KEY_LEFTBRACE", 1), ("KEY_APOSTROPHE", 2),
                   ("KEY_BACKSLASH", 2), ("KEY_EQUAL", 2)}),
    ),
    "nl": Layout(
        "nl",
        ("@1234567890/°", "qwertyuiop¨*", "asdfghjkl+´<", "]zxcvbnm,.-"),
        ("§!\"#$%&_()'?~", "QWERTYUIOP^|", "ASDFGHJKL±`>", "[ZXCVBNM;:="),
        {"KEY_1": "¹", "KEY_2": "²", "KEY_3": "³", "KEY_4": "¼", "KEY_5": "½", "KEY_6": "¾",
         "KEY_7": "£", "KEY_8": "{", "KEY_9": "}", "KEY_MINUS": "\\", "KEY_E": "€",
         "KEY_102ND": "|"},
        frozenset({("KEY_EQUAL", 1), ("KEY_LEFTBRACE", 0), ("KEY_LEFTBRACE", 1),
                   ("KEY_APOSTROPHE", 0), ("KEY_APOSTROPHE", 1)}),
    ),
}


def layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(
            f"unknown keyboard layout {name!r} (known: {', '.join(LAYOUTS)})") from None
