"""Rollouts: which terminals get a release, the notice that tells them, and what their
reports do to the rollout.

A rollout goes to a ring: `pilot` (the terminals an admin put there), `stores` (every other
terminal) or `all`, optionally a stable `percent` of it (the same terminals each time for a
version). Every change (publish, widen, pause, resume, halt, roll back) is a new sealed
notice on `kassa/v1/fleet/release` with the next notice version (contract/release_notice.py),
retained, so a terminal that comes online later finds the current word. When as many
terminals as the release's `max_failures` report a rollback or a refusal, the rollout halts
by itself: no terminal that has not started yet starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import peewee

from contract import sealed
from contract.release_notice import ALL, ReleaseNotice, parse_notice, version_key
from contract.wire import valid_id
from headoffice.broker import Publish
from headoffice.downstream_send import send_downstream
from headoffice.models import RegisteredTerminal, TerminalState
from headoffice.orm import write_transaction
from headoffice.releases.models import NoticeSent, Release, RingMember, TerminalRelease

RINGS = ("pilot", "stores", "all")
FAILED = ("rolled_back", "refused")
PHASES = ("download", "install", "switch", "rollback", "done")
OUTCOMES = ("", "committed", "rolled_back", "refused", "stopped")


class RolloutError(ValueError):
    """A rollout request refused: `what` was wrong and `reason` why."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what, self.reason = what, reason


def _upsert(model: type[peewee.Model], **values: Any) -> None:
    """Insert or overwrite by primary key, the same on SQLite and PostgreSQL."""
    key = model._meta.primary_key
    model.insert(**values).on_conflict(
        conflict_target=[key],
        update={model._meta.fields[name]: value for name, value in values.items()
                if name != key.name}).execute()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def set_ring(terminal: str, ring: str) -> None:
    if ring not in ("pilot", "stores"):
        raise RolloutError("ring", f"{ring!r} is not pilot or stores")
    if RegisteredTerminal.get_or_none(RegisteredTerminal.terminal_id == terminal) is None:
        raise RolloutError("terminal", f"{terminal!r} is not registered")
    with write_transaction():
        _upsert(RingMember, terminal=terminal, ring=ring)


def ring_terminals(ring: str) -> list[str]:
    active = [row.terminal_id for row in RegisteredTerminal.select()
              .where(RegisteredTerminal.status == "active").order_by(RegisteredTerminal.terminal_id)]
    pilots = {row.terminal for row in RingMember.select().where(RingMember.ring == "pilot")}
    if ring == "pilot":
        return [t for t in active if t in pilots]
    if ring == "stores":
        return [t for t in active if t not in pilots]
    return active


def choose(terminals: list[str], percent: int, version: str) -> list[str]:
    """A stable `percent` of `terminals` (at least one when any): ranked by a hash of the
    version and the id, so widening 10% -> 50% keeps the first 10%."""
    ranked = sorted(terminals, key=lambda t: hashlib.sha256(f"{version}/{t}".encode()).digest())
    return ranked[:math.ceil(len(ranked) * percent / 100)] if ranked else []


def running_version(terminal: str) -> str:
    """What a terminal last said it runs: its update report, else its retained status."""
    report = TerminalRelease.get_or_none(TerminalRelease.terminal == terminal)
    if report is not None and report.running:
        return report.running
    state = TerminalState.get_or_none(TerminalState.terminal == terminal)
    try:
        return str(json.loads(state.status)["versions"]["software"]) if state else ""
    except (ValueError, KeyError, TypeError):
        return ""


def store_artifact(artifact: Path, releases_dir: Path, version: str) -> tuple[str, str, int]:
    """Copies the artifact beside the other releases (name, sha256, size)."""
    if not artifact.is_file():
        raise RolloutError("artifact", f"{artifact} is not a file")
    name = f"kassa-{version}{artifact.suffix or '.artifact'}"
    releases_dir.mkdir(parents=True, exist_ok=True)
    tmp = releases_dir / f".{name}.tmp"
    shutil.copyfile(artifact, tmp)
    digest = hashlib.sha256()
    with open(tmp, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    size = tmp.stat().st_size
    os.replace(tmp, releases_dir / name)
    return name, digest.hexdigest(), size


@dataclass(frozen=True)
class Published:
    release: str
    notice: ReleaseNotice
    targets: tuple[str, ...]


def publish(version: str, artifact: Path, releases_dir: Path, ring: str, percent: int,
            send: Publish, *, force: bool = False, max_failures: int = 1) -> Published:
    """Publishes (or widens) the rollout of `version` to `ring`; returns the notice sent."""
    version_key(version)
    if ring not in RINGS:
        raise RolloutError("ring", f"{ring!r} is not one of {', '.join(RINGS)}")
    if not 1 <= percent <= 100:
        raise RolloutError("percent", f"{percent} is not 1..100")
    if not 1 <= max_failures <= 10_000:
        raise RolloutError("max_failures", f"{max_failures} is not 1..10000")
    chosen = choose(ring_terminals(ring), percent, version)
    if not chosen:
        raise RolloutError("ring", f"no active terminal in ring {ring!r}")
    name, sha256, size = store_artifact(artifact, releases_dir, version)
    row = Release.get_or_none(Release.version == version)
    before = sorted({running_version(t) for t in chosen} - {"", version}, key=version_key)
    if not before:  # no terminal has said what it runs: the newest release published before
        before = sorted((r.version for r in Release.select(Release.version)
                         if version_key(r.version) < version_key(version)), key=version_key)
    targets = sorted(set(chosen) | set(json.loads(row.targets) if row else []))
    if ring == "all" and percent == 100:
        targets = [ALL]
    with write_transaction():
        _upsert(Release, version=version, artifact=name, sha256=sha256, size=size, ring=ring,
                       percent=percent, state="active", reason="downgrade" if force else "rollout",
                       force=force, targets=json.dumps(targets), max_failures=max_failures,
                       previous=(row.previous if row and row.previous else
                                 (before[-1] if before else "")),
                       halted_why="", published_at=_now())
    return _send(Release.get(Release.version == version), send)


def _body(row: Release, notice_version: int, *, state: str | None = None,
          targets: list[str] | None = None, release: Release | None = None,
          reason: str | None = None, force: bool | None = None) -> dict[str, Any]:
    source = release or row
    return {"version": notice_version, "release": source.version,
            "state": state or ("active" if row.state in ("active", "rolled_back") else row.state),
            "targets": targets if targets is not None else json.loads(row.targets),
            "path": f"/releases/{source.artifact}", "sha256": source.sha256, "size": source.size,
            "force": row.force if force is None else force,
            "reason": reason or row.reason}


def _send(row: Release, send: Publish, **overrides: Any) -> Published:
    with write_transaction():
        last = NoticeSent.select(NoticeSent.version).order_by(NoticeSent.version.desc()).first()
        number = (last.version if last else 0) + 1
        body = _body(row, number, **overrides)
        notice = parse_notice(body)
        NoticeSent.create(version=number, release=notice.release,
                          body=json.dumps(body, sort_keys=True), sent_at=_now())
    send_downstream(send, "release", sealed.FLEET, body)
    return Published(notice.release, notice, notice.targets)


def _release(version: str) -> Release:
    row = Release.get_or_none(Release.version == version)
    if row is None:
        raise RolloutError("release", f"{version!r} was never published")
    return row


def live_release() -> str:
    """The release the newest notice names: the one rollout the fleet acts on now (there
    is one retained notice, so changing an older rollout would replace the newer one)."""
    last = NoticeSent.select(NoticeSent.release).order_by(NoticeSent.version.desc()).first()
    return last.release if last else ""


def set_state(version: str, state: str, send: Publish, why: str = "") -> Published:
    """Pause, resume or halt the rollout under way (a notice with the new state)."""
    if state not in ("active", "paused", "halted"):
        raise RolloutError("state", f"{state!r} is not active, paused or halted")
    row = _release(version)
    if row.state == "rolled_back":
        raise RolloutError("release", f"{version} was rolled back; publish it again instead")
    if live_release() != version:
        raise RolloutError("release", f"{version} is not the rollout under way (the newest "
                           f"notice names {live_release() or 'nothing'})")
    with write_transaction():
        Release.update(state=state, halted_why=why).where(Release.version == version).execute()
    return _send(_release(version), send)


def rollback(version: str, send: Publish) -> Published:
    """Sends the terminals of `version`'s rollout back to the release they ran before: a
    notice naming that release with `force` (the terminal's one way to go back)."""
    row = _release(version)
    if not row.previous:
        raise RolloutError("release", f"no earlier release is known for the terminals of {version}")
    earlier = _release(row.previous)
    with write_transaction():
        Release.update(state="rolled_back").where(Release.version == version).execute()
    return _send(_release(version), send, state="active", release=earlier, reason="rollback",
                 force=True)


def record_report(terminal: str, report: dict[str, Any]) -> str | None:
    """Stores a terminal's report; returns the release whose rollout must halt now, if any.
    Raises RolloutError on a malformed report."""
    if not valid_id(terminal):
        raise RolloutError("terminal", f"{terminal!r} is not a terminal id")
    fields = {"release": str, "running": str, "phase": str, "outcome": str, "detail": str}
    clean: dict[str, str] = {}
    for name, kind in fields.items():
        value = report.get(name, "")
        if not isinstance(value, kind) or len(value) > 500:
            raise RolloutError(name, "not a string of at most 500 characters")
        clean[name] = value
    if clean["phase"] not in PHASES:
        raise RolloutError("phase", f"{clean['phase']!r} is not one of {', '.join(PHASES)}")
    if clean["outcome"] not in OUTCOMES:
        raise RolloutError("outcome", f"{clean['outcome']!r} is not a known outcome")
    with write_transaction():
        _upsert(TerminalRelease, terminal=terminal, updated=_now(), **clean)
    if clean["outcome"] not in FAILED:
        return None
    row = Release.get_or_none(Release.version == clean["release"])
    if row is None or row.state != "active" or row.reason == "rollback":
        return None
    failures = TerminalRelease.select().where(TerminalRelease.release == row.version,
                                              TerminalRelease.outcome.in_(FAILED)).count()
    if failures < row.max_failures or live_release() != row.version:
        return None  # below the threshold, or a later notice already replaced this rollout
    return row.version


@dataclass(frozen=True)
class Progress:
    release: str
    state: str
    ring: str
    targets: int
    committed: int
    failed: int
    under_way: int

    def line(self) -> str:
        return (f"{self.release} ({self.ring}, {self.state}): {self.committed}/{self.targets} "
                f"committed, {self.failed} failed, {self.under_way} under way")


def progress(version: str | None = None) -> list[Progress]:
    """The rollout's progress per release, newest first (for the CLI and the web page)."""
    rows = Release.select()
    if version:
        rows = rows.where(Release.version == version)
    found = []
    all_active = ring_terminals("all")
    for row in sorted(rows, key=lambda r: version_key(r.version), reverse=True):
        targets = json.loads(row.targets)
        members = all_active if ALL in targets else targets
        reports = {r.terminal: r for r in TerminalRelease.select().where(
            TerminalRelease.terminal.in_(members))} if members else {}
        committed = sum(1 for t in members if running_version(t) == row.version)
        failed = sum(1 for r in reports.values() if r.release == row.version
                     and r.outcome in FAILED)
        under_way = sum(1 for r in reports.values() if r.release == row.version
                        and r.phase != "done")
        found.append(Progress(row.version, row.state, row.ring, len(members), committed, failed,
                              under_way))
    return found


def terminal_versions() -> dict[str, tuple[str, str, str]]:
    """terminal -> (running version, last update step or outcome, the release it concerns)
    for the terminals page and the fleet list; empty strings where nothing is known."""
    out: dict[str, tuple[str, str, str]] = {}
    for row in RegisteredTerminal.select():
        report = TerminalRelease.get_or_none(TerminalRelease.terminal == row.terminal_id)
        step, release = "", ""
        if report is not None:
            step = report.outcome if report.phase == "done" else report.phase
            release = report.release
        out[row.terminal_id] = (running_version(row.terminal_id), step, release)
    return out
