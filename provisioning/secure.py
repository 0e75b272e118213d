"""Writing secrets to disk: atomically, mode 0600 from the first byte, never via a log line.

A key file that exists for a moment with the umask's mode is readable by anyone who looks
at that moment, so files are created with O_EXCL and mode 0600 and renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

SECRET_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Creates a directory (and parents) that only the owner may enter."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def write_file(path: str | os.PathLike[str], data: bytes | str, mode: int = SECRET_MODE) -> Path:
    """Writes data to path atomically with the given mode (0600 unless told otherwise)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_new_file(path: str | os.PathLike[str], data: bytes | str,
                   mode: int = SECRET_MODE) -> Path:
    """Like write_file but refuses to replace an existing file (keys are never overwritten)."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists; refusing to overwrite it")
    return write_file(path, data, mode)
