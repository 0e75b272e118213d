"""The terminals page shows each rollout's progress and each terminal's version and last
update step, in Dutch (English behind the switch), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from headoffice.models import TerminalState
from headoffice.releases import rollout
from tests.office.helpers import OfficeWeb
from tests.office.test_dashboard_language import english_in, visible
from tests.update.office_setup import office_key, register


@pytest.fixture
def web(office_db_url, tmp_path, monkeypatch):
    office_key(tmp_path, monkeypatch)
    register(("p1", "p2", "s1"), ("p1", "p2"))
    for terminal in ("p1", "p2", "s1"):
        TerminalState.create(terminal=terminal, store="shop")  # as the ingest makes it
    artifact = tmp_path / "kassa-0.2.0.tar"
    artifact.write_bytes(b"release")
    rollout.publish("0.2.0", artifact, tmp_path / "published", "pilot", 100,
                    lambda topic, payload, retain: None)
    rollout.record_report("p1", {"release": "0.2.0", "running": "0.2.0", "phase": "done",
                                 "outcome": "committed"})
    rollout.record_report("p2", {"release": "0.2.0", "running": "0.1.0", "phase": "install"})
    made = OfficeWeb(office_db_url)
    made.login()
    yield made
    made.stop()


def test_the_terminals_page_shows_versions_and_the_rollout(web) -> None:
    status, page = web.get("/terminals")
    assert status == 200
    text = " ".join(visible(page).split())
    assert english_in(text) == []
    assert "0.2.0 pilot actief 1/2 0 1" in text  # release, ring, state, committed, failed, busy
    assert "p1 0.2.0 (0.2.0: bijgewerkt)" in text  # p1 runs 0.2.0; its last update committed
    assert "p2 0.1.0 (0.2.0: installeren)" in text  # p2 is installing 0.2.0
    assert 'data-version="s1" title="Versie">?<' in page  # s1 has said nothing yet
