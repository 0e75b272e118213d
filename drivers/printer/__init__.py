"""Receipt printers (python-escpos): usb, network, file, dummy and a simulator writing to var/.

python-escpos reads its printer-profile database (capabilities.json, 96 KB) with PyYAML on
every import unless it finds a pickle of it from an earlier start, and by default it looks
for that pickle in a fresh temporary directory, so it never does: 0.3-0.4 s of every till
start and ~3 MB of heap. Before any module of this package imports escpos, the pickle is
kept in a cache directory (written once, from the same JSON, atomically so a second process
starting at the same moment never reads half a file) and escpos is pointed at it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import platform
import tempfile
from pathlib import Path

PICKLE_DIR_ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kassa" / "escpos"


def prepare_capabilities_cache(directory: Path | None = None) -> Path | None:
    """Writes escpos' capabilities pickle where escpos will look: `directory`, else the one
    ESCPOS_CAPABILITIES_PICKLE_DIR names (the till's systemd unit: /var/lib/kassa/escpos),
    else ~/.cache/kassa/escpos. Returns the pickle, or None when there is nowhere to keep it
    (escpos then parses its database itself, as before)."""
    if directory is None and os.environ.get(PICKLE_DIR_ENV):
        directory = Path(os.environ[PICKLE_DIR_ENV])
    spec = importlib.util.find_spec("escpos")
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "capabilities.json"
    directory = directory or _cache_dir()
    target = directory / f"{platform.python_version()}.capabilities.pickle"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            capabilities = json.loads(source.read_text(encoding="utf-8"))
            fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                pickle.dump(capabilities, out, protocol=2)
            os.replace(tmp, target)
    except OSError:
        if os.environ.get(PICKLE_DIR_ENV) == str(directory):
            del os.environ[PICKLE_DIR_ENV]  # escpos could not write its own pickle there either
        return None
    os.environ[PICKLE_DIR_ENV] = str(directory)
    return target


prepare_capabilities_cache()
