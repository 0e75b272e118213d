"""Fixtures for a till on a fresh temporary terminal: config, database, key, demo data."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.assemble import build_till
from contract.config import Config, parse_config
from firmware.sim import ensure_demo_data
from firmware.till import TillService


class RecordingDrawer:
    """A Drawer that remembers when it was pulsed, and can be told to fail."""

    def __init__(self) -> None:
        self.pulses = 0
        self.fail: str | None = None
        self.state = "unknown"

    def open(self) -> None:
        from firmware.ports import DeviceError

        if self.fail:
            raise DeviceError(self.fail)
        self.pulses += 1

    def close(self) -> None:
        pass


def make_config(tmp: Path, extra: str = "") -> Config:
    text = f"""
[terminal]
store = "s1"
terminal = "t1"
signing_key = "{tmp / 'keys' / 'journal.pem'}"

[database]
path = "{tmp / 'kassa.sqlite3'}"
{extra}
"""
    config_file = tmp / "kassa.toml"
    config_file.write_text(text)
    return parse_config(text, str(config_file), var_dir=str(tmp / "var"))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def drawer() -> RecordingDrawer:
    return RecordingDrawer()


@pytest.fixture
def till(config: Config, drawer: RecordingDrawer) -> TillService:
    service = build_till(config, drawer=drawer)
    ensure_demo_data(service, products=30)
    yield service
    service.db.close()


@pytest.fixture
def cashier_till(till: TillService) -> TillService:
    till.login("1111")
    return till
