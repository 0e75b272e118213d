"""The updater's state machine: one `step` per poll, each step one durable move.

    idle -> download -> downloaded -> installed -> switching -> health -> idle (committed)
                                                                  \\-> rolling_back -> idle

Every phase is saved before the work it names is done, and that work is safe to redo, so a
kill -9 anywhere resumes: a download continues from its .part file, an install is made
again, a switch points the link again, a health check that the updater itself lost is
started afresh (a bounded number of times) and a rollback is finished. A release that
fails verification is refused before anything of the running version is touched.
"""

from __future__ import annotations

import datetime as dt
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import sealed
from contract.config import UpdateConfig
from contract.keys import PublicKey
from contract.release_notice import NoticeError, ReleaseNotice, is_newer
from updater import notice as notices
from updater.fetch import FetchError, HashMismatch, Tls, fetch, post_json
from updater.policy import may_install
from updater.services import ServiceError, Services
from updater.slots import ArtifactRefused, Installer, link_version, point_link, slot_link
from updater.state import StateFile, UpdateState
from updater.tillfacts import TillFacts

log = logging.getLogger(__name__)
REPORT_PATH = "/releases/report"


@dataclass
class Updater:
    terminal: str
    cfg: UpdateConfig
    root: Path  # releases/<version>/ and the current, previous, committed links
    state_file: StateFile
    installer: Installer
    services: Services
    facts: TillFacts
    office_key: PublicKey
    tls: Tls
    clock: Callable[[], float] = time.time

    @property
    def arch(self) -> str:
        return self.cfg.arch or platform.machine()

    @property
    def downloads(self) -> Path:
        return self.state_file.dir / "downloads"

    # -- reporting ----------------------------------------------------------------------
    def report(self, state: UpdateState, phase: str, outcome: str = "", detail: str = "",
               release: str | None = None) -> bool:
        body: dict[str, Any] = {"terminal": self.terminal, "release": release or state.target,
                                "running": self.installer.current() or "", "phase": phase,
                                "outcome": outcome, "detail": detail[:500],
                                "notice": state.notice}
        try:
            post_json(self.cfg.server, REPORT_PATH, body, self.tls)
            return True
        except FetchError as exc:
            log.warning("report to head office not sent: %s", exc)
            return False

    def finish(self, state: UpdateState, outcome: str, detail: str) -> UpdateState:
        """Back to idle with the outcome kept (and sent until head office has it)."""
        last = {"release": state.target, "outcome": outcome, "detail": detail,
                "notice": state.notice, "from": state.from_version, "reported": False}
        state = self.state_file.save(UpdateState(notice=state.notice, last=last))
        log.warning("update to %s: %s (%s)", last["release"], outcome, detail)
        return self._send_last(state)

    def _send_last(self, state: UpdateState) -> UpdateState:
        last = state.last
        if last and not last.get("reported"):
            stub = state.to(target=last["release"])
            if self.report(stub, "done", last["outcome"], last["detail"]):
                state = self.state_file.save(state.to(last={**last, "reported": True}))
        return state

    # -- the notice ---------------------------------------------------------------------
    def read_notice(self) -> ReleaseNotice | None:
        payload = self.facts.notice_payload()
        if payload is None:
            return None
        try:
            return notices.open_notice(payload, self.office_key)
        except (sealed.SealError, NoticeError) as exc:
            log.error("release notice refused: %s", exc)
            return None

    def wanted(self, state: UpdateState, notice: ReleaseNotice | None) -> UpdateState | None:
        """The state that starts the update the notice asks for, or None."""
        if notice is None or notice.state != "active" or not notice.targets_terminal(self.terminal):
            return None
        running = self.installer.current()
        if running == notice.release:
            return None
        last = state.last
        if last.get("release") == notice.release and last.get("notice") == notice.version:
            return None  # this notice's update already ended (failed or refused): not again
        if running and not notice.force and not is_newer(notice.release, running):
            return self.finish(state.to(notice=notice.version, target=notice.release,
                                        from_version=running), "refused",
                               f"downgrade from {running} without an admin's force")
        return state.to(phase="download", notice=notice.version, target=notice.release,
                        sha256=notice.sha256, path=notice.path, size=notice.size,
                        force=notice.force, reason=notice.reason, attempts=0, from_version="")

    # -- one step -------------------------------------------------------------------------
    def step(self) -> UpdateState:
        state = self.state_file.load()
        if state.phase == "idle":
            state = self._send_last(state)
            start = self.wanted(state, self.read_notice())
            if start is None or start.phase == "idle":
                return start or state
            state = self.state_file.save(start)
            self.report(state, "download")
        handler = getattr(self, "_" + state.phase)
        return handler(state)

    def _stopped_by_notice(self, state: UpdateState) -> bool:
        """Head office paused, halted or replaced the rollout before the switch."""
        notice = self.read_notice()
        return notice is not None and (notice.version > state.notice or notice.state != "active")

    def _download(self, state: UpdateState) -> UpdateState:
        if self._stopped_by_notice(state):
            return self.state_file.save(UpdateState(notice=state.notice, last=state.last))
        self.downloads.mkdir(parents=True, exist_ok=True)
        try:
            fetch(self.cfg.server, state.path, state.sha256, state.size, self.artifact(state),
                  self.tls)
        except HashMismatch as exc:
            return self.finish(state, "refused", f"hash: {exc.reason}")
        except FetchError as exc:
            log.warning("download of %s: %s; tried again", state.target, exc)
            return state
        return self.state_file.save(state.to(phase="downloaded"))

    def artifact(self, state: UpdateState) -> Path:
        return self.downloads / f"{state.target}-{state.sha256[:16]}.artifact"

    def _downloaded(self, state: UpdateState) -> UpdateState:
        artifact = self.artifact(state)
        try:
            version = self.installer.verify(artifact, self.arch)
            if version != state.target:
                raise ArtifactRefused("version", f"artifact holds {version}, the notice "
                                      f"names {state.target}")
            self.report(state, "install")
            self.installer.install(artifact, self.arch)
        except ArtifactRefused as exc:
            artifact.unlink(missing_ok=True)
            return self.finish(state, "refused", f"{exc.reason}: {exc.detail}")
        return self.state_file.save(state.to(phase="installed"))

    def _installed(self, state: UpdateState) -> UpdateState:
        if self._stopped_by_notice(state):
            return self.finish(state, "stopped", "head office paused or replaced the rollout")
        allowed, why = may_install(self.cfg, self.facts.activity(), self.facts.last_z(),
                                   dt.datetime.fromtimestamp(self.clock(), dt.UTC))
        if not allowed:
            log.info("update to %s waits: %s", state.target, why)
            return state
        state = self.state_file.save(state.to(phase="switching",
                                              from_version=self.installer.current() or "",
                                              journal_seq=self.facts.journal_head()))
        return self._switching(state)

    def _switching(self, state: UpdateState) -> UpdateState:
        """Tells the till why (just before, so a till restarting meanwhile cannot take the
        reason for itself), points `current` at the target and restarts the processes."""
        self.report(state, "switch")
        running = state.from_version
        reason = "update" if not running or is_newer(state.target, running) else (
            "rollback" if state.reason == "rollback" else "forced_downgrade")
        if self.installer.current() != state.target:
            self.facts.set_reason(reason, state.target)
        self.installer.switch(state.target)
        try:
            started = self.services.restart()
        except ServiceError as exc:
            log.error("restart after the switch: %s", exc)
            started = self.clock()
        return self.state_file.save(state.to(phase="health", switched_at=started,
                                             deadline=started + self.cfg.health_seconds))

    def _health(self, state: UpdateState) -> UpdateState:
        checks = self.health(state)
        if all(checks.values()):
            point_link(self.root / "committed", slot_link(self.root, state.target))
            self.artifact(state).unlink(missing_ok=True)
            return self.finish(state, "committed", f"healthy {self.clock() - state.switched_at:.1f}s"
                               " after the switch")
        if self.clock() < state.deadline:
            return state
        failed = ", ".join(name for name, ok in checks.items() if not ok)
        return self._rolling_back(self.state_file.save(
            state.to(phase="rolling_back", last={**state.last, "why": failed})))

    def health(self, state: UpdateState) -> dict[str, bool]:
        return {"till READY": self.services.till_ready(state.switched_at),
                "software_update journaled": self.facts.update_journaled(state.journal_seq,
                                                                         state.target),
                "uplink connected": self.facts.linked_since(state.switched_at)}

    def resume(self) -> UpdateState:
        """At the updater's own start: a health check it was running when it died is begun
        again with a fresh limit (the processes are restarted so READY is seen anew), at most
        max_attempts times, then the release is rolled back."""
        state = self.state_file.load()
        if state.phase != "health":
            return state
        if state.attempts + 1 >= self.cfg.max_attempts:
            return self._rolling_back(self.state_file.save(state.to(phase="rolling_back")))
        state = self.state_file.save(state.to(attempts=state.attempts + 1, phase="switching"))
        return self._switching(state)

    def _rolling_back(self, state: UpdateState) -> UpdateState:
        back = state.from_version
        self.report(state, "rollback", detail=state.last.get("why", ""))
        if back and link_version(self.root / "current") != back:
            self.facts.set_reason("rollback", back, undone=state.target)
            self.installer.switch(back)
        try:
            self.services.restart()
        except ServiceError as exc:
            log.error("restart after the rollback: %s", exc)
        why = state.last.get("why", "health check")
        return self.finish(state, "rolled_back", f"not healthy within "
                           f"{self.cfg.health_seconds}s: {why}")

    # -- the loop -----------------------------------------------------------------------
    def run(self, stop: Callable[[], bool], exit_on_commit: bool = False) -> None:
        """Steps until `stop()`. With `exit_on_commit` it returns after a commit, so systemd
        starts the updater again from the release just committed."""
        self.resume()
        while not stop():
            try:
                before = self.state_file.load().phase
                state = self.step()
            except Exception:
                log.exception("update step failed; tried again")
                state = None
            if exit_on_commit and state is not None and before == "health" and \
                    state.last.get("outcome") == "committed":
                return
            busy = state is not None and state.phase not in ("idle", "installed")
            time.sleep(0.2 if busy else self.cfg.poll_seconds)
