"""Head office's view of each terminal: online/offline from the retained status and the Will,
the till's backlog and last ack, and when it was last seen."""

from __future__ import annotations

import json
import os
import signal

from headoffice import registry
from headoffice.models import TerminalState
from tests.uplink.harness import (
    make_till,
    start_ingest,
    start_uplink,
    stop,
    wait_ingest_ready,
    wait_until,
)


def _state(terminal: str) -> TerminalState | None:
    return TerminalState.get_or_none(TerminalState.terminal == terminal)


def test_online_backlog_then_offline_by_the_will(tmp_path, mosquitto, office_db_url):
    broker = mosquitto()
    till = make_till(tmp_path / "till", broker.port)
    registry.add_terminal(till.terminal, till.store, till.public_key_hex)
    till.add_entries(25)
    ingest = start_ingest(office_db_url, broker.port, workers=2)
    uplink = start_uplink(till)
    try:
        wait_ingest_ready(broker)
        wait_until(lambda: (s := _state(till.terminal)) is not None and s.online
                   and s.backlog == 0 and s.till_acked == 25, 30,
                   "head office to see the till online with nothing left to send")
        state = _state(till.terminal)
        assert state.contiguous_seq == 25 and state.last_seen
        assert json.loads(state.status)["head"] == 25
        info = {t.terminal_id: t for t in registry.list_terminals()}[till.terminal]
        assert info.online and info.acked_seq == 25 and info.backlog == 0
        os.kill(uplink.pid, signal.SIGKILL)
        wait_until(lambda: not _state(till.terminal).online, 20, "the Will to mark it offline")
    finally:
        stop(uplink)
        stop(ingest)
