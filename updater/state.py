"""The updater's progress, on disk, so a kill -9 at any moment resumes or cleanly retries.

One small JSON file, replaced atomically (write, fsync, rename, fsync the directory): after a
power cut it holds either the step before or the step after, never half of one. Each phase
is a promise about what is already true on disk (see PHASES); the engine redoes the step
that a phase names, and every step is safe to redo.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

# idle: nothing under way | download: fetching the artifact (a .part file may exist)
# downloaded: the artifact's hash matched the notice | installed: its slot is complete
# switching: `current` is being pointed at the target (redo: point it again)
# health: target is current and was started; commit by `deadline` or go back
# rolling_back: `current` goes back to `from_version` (redo: point it again, restart)
PHASES = ("idle", "download", "downloaded", "installed", "switching", "health", "rolling_back")


class StateError(ValueError):
    """The state file exists but cannot be read as the updater's state; `path` and `reason`."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class UpdateState:
    phase: str = "idle"
    notice: int = 0  # version of the newest notice acted on
    target: str = ""  # release being installed
    sha256: str = ""
    path: str = ""
    size: int = 0
    force: bool = False
    reason: str = ""  # rollout, rollback, downgrade (the notice's)
    from_version: str = ""  # what ran before the switch
    attempts: int = 0  # of this target
    deadline: float = 0.0  # wall clock: the health check ends then
    switched_at: float = 0.0
    journal_seq: int = 0  # the journal's last seq before the switch
    last: dict[str, Any] = field(default_factory=dict)  # the last finished update's outcome

    def to(self, **changes: Any) -> UpdateState:
        return replace(self, **changes)


class StateFile:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.path = directory / "state.json"

    def load(self) -> UpdateState:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return UpdateState()
        except (OSError, ValueError) as exc:
            raise StateError(self.path, f"unreadable ({exc})") from None
        if not isinstance(data, dict):
            raise StateError(self.path, "not a JSON object")
        known = set(UpdateState.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise StateError(self.path, f"unknown keys {unknown}")
        state = UpdateState(**data)
        if state.phase not in PHASES:
            raise StateError(self.path, f"unknown phase {state.phase!r}")
        return state

    def save(self, state: UpdateState) -> UpdateState:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = json.dumps(asdict(state), sort_keys=True).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        sync_dir(self.dir)
        return state


def sync_dir(directory: Path) -> None:
    """A rename is durable only once its directory is synced."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
