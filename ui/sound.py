"""The reject beep: a short WAV made with the stdlib `wave` module, played with SoundLoader.

A till without a speaker (or a test under Xvfb without audio) must keep working, so every
step is allowed to fail quietly: the red flash is the signal that always works.
"""

from __future__ import annotations

import logging
import math
import struct
import tempfile
import wave
from pathlib import Path

log = logging.getLogger(__name__)

RATE = 22050


def write_beep(path: Path, hz: int = 660, ms: int = 250, volume: float = 0.5) -> Path:
    """Two short square-wave bursts: unmistakable, and different from the scanner's own beep."""
    frames = bytearray()
    total = RATE * ms // 1000
    for i in range(total):
        gap = (i * 3 // total) == 1  # burst - pause - burst
        value = 0 if gap else (1 if math.sin(2 * math.pi * hz * i / RATE) >= 0 else -1)
        frames += struct.pack("<h", int(value * volume * 32767))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))
    return path


class Beeper:
    """Loads the beep once; play() never raises."""

    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or Path(tempfile.gettempdir())) / "kassa-reject.wav"
        self.sound = None
        self.played = 0
        try:
            if not self.path.exists():
                write_beep(self.path)
            from kivy.core.audio import SoundLoader

            self.sound = SoundLoader.load(str(self.path))
        except Exception as exc:  # no audio device, no provider: the flash still shows
            log.warning("reject sound unavailable: %s", exc)
            self.sound = None

    def play(self) -> None:
        self.played += 1
        if self.sound is None:
            return
        try:
            self.sound.stop()
            self.sound.play()
        except Exception as exc:
            log.warning("reject sound failed: %s", exc)
