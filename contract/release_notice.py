"""The release notice: what head office tells the fleet on `kassa/v1/fleet/release`.

One notice names the release the `targets` should run now, where its artifact is and what
it hashes to; it is sealed like every downstream message (contract/sealed.py, kind
`release`, store FLEET), so only head office can start an update. Every change of a rollout
(publish, a wider ring, pause, halt, roll back) is a new notice with a higher `version`; a
terminal acts on the newest only. A rollback is a notice naming the previous release with
`force` set: the one way a terminal accepts an older version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from contract.wire import valid_id

KIND = "release"
STATES = ("active", "paused", "halted")  # paused/halted: no terminal starts this update
ALL = "*"  # targets: every terminal of the fleet
MAX_TARGETS = 10_000
MAX_NOTICE_BYTES = 1_000_000
VERSION_FORMAT = re.compile(r"(?P<numbers>[0-9]{1,9}(\.[0-9]{1,9}){0,3})"
                            r"((a|b|rc)[0-9]{1,9})?(\.dev[0-9]{1,9})?")
SHA256_FORMAT = re.compile(r"[0-9a-f]{64}")
PATH_FORMAT = re.compile(r"/releases/[A-Za-z0-9._+-]{1,200}")


class NoticeError(ValueError):
    """A release notice that is not one: `field` names what was wrong, `reason` why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"release notice {field}: {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class ReleaseNotice:
    version: int  # the notice's own sequence
    release: str  # the software version the targets should run
    state: str
    targets: tuple[str, ...]
    path: str  # of the artifact on head office's release server
    sha256: str  # of the artifact file
    size: int
    force: bool  # an older release is installed too (an admin's rollback or downgrade)
    reason: str  # why: "rollout", "rollback", "downgrade"

    def targets_terminal(self, terminal: str) -> bool:
        return ALL in self.targets or terminal in self.targets

    def body(self) -> dict[str, Any]:
        return {"version": self.version, "release": self.release, "state": self.state,
                "targets": list(self.targets), "path": self.path, "sha256": self.sha256,
                "size": self.size, "force": self.force, "reason": self.reason}


def version_key(text: str) -> tuple[tuple[int, ...], int, str]:
    """Orders release versions: numbers first, then a final release after its pre-releases
    (0.2.0rc1 < 0.2.0). Raises NoticeError on a malformed version."""
    match = VERSION_FORMAT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise NoticeError("release", f"{text!r} is not a release version like 1.2.3")
    numbers = tuple(int(part) for part in match.group("numbers").split("."))
    numbers += (0,) * (4 - len(numbers))
    suffix = text[match.end("numbers"):]
    return numbers, 0 if suffix else 1, suffix


def is_newer(candidate: str, running: str) -> bool:
    return version_key(candidate) > version_key(running)


def parse_notice(data: Any) -> ReleaseNotice:
    """A ReleaseNotice from the notice body's JSON object; NoticeError names the bad field."""
    if not isinstance(data, dict):
        raise NoticeError("(body)", "not a JSON object")
    expected = {"version": int, "release": str, "state": str, "targets": list, "path": str,
                "sha256": str, "size": int, "force": bool, "reason": str}
    missing = sorted(set(expected) - set(data))
    if missing:
        raise NoticeError(missing[0], "missing")
    extra = sorted(set(data) - set(expected))
    if extra:
        raise NoticeError(extra[0], "unknown field")
    for name, kind in expected.items():
        value = data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise NoticeError(name, f"not a {kind.__name__}")
    if not 1 <= data["version"] <= 2**53 - 1:
        raise NoticeError("version", "must be 1..2^53-1")
    version_key(data["release"])
    if data["state"] not in STATES:
        raise NoticeError("state", f"{data['state']!r} is not one of {', '.join(STATES)}")
    targets = data["targets"]
    if len(targets) > MAX_TARGETS:
        raise NoticeError("targets", f"{len(targets)} terminals, at most {MAX_TARGETS}")
    for target in targets:
        if target != ALL and not valid_id(target):
            raise NoticeError("targets", f"{target!r} is not a terminal id")
    if not PATH_FORMAT.fullmatch(data["path"]):
        raise NoticeError("path", f"{data['path']!r} is not /releases/<file>")
    if not SHA256_FORMAT.fullmatch(data["sha256"]):
        raise NoticeError("sha256", "not 64 lowercase hex digits")
    if not 0 < data["size"] <= 2**40:
        raise NoticeError("size", "must be 1..2^40 bytes")
    if data["reason"] not in ("rollout", "rollback", "downgrade"):
        raise NoticeError("reason", f"{data['reason']!r} is not rollout, rollback or downgrade")
    return ReleaseNotice(data["version"], data["release"], data["state"], tuple(targets),
                         data["path"], data["sha256"], data["size"], data["force"],
                         data["reason"])
