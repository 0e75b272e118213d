"""Fixtures for the customer, stock and webshop tests: a fresh head-office database with the
shop tables, and a till (TillService) of store s1 with a loyalty prefix."""

from __future__ import annotations

import pytest

from cli.assemble import build_till
from firmware.sim import ensure_demo_data
from tests.fixtures_till import make_config

PREFIX = "299"


@pytest.fixture
def office(tmp_path):
    from headoffice.db import database_proxy, open_office_db

    db = open_office_db(f"sqlite:///{tmp_path / 'office.sqlite3'}")
    yield db
    db.close()
    database_proxy.initialize(None)


@pytest.fixture
def shop_till(tmp_path):
    (tmp_path / "till").mkdir()
    till = build_till(make_config(tmp_path / "till", f'[scanner]\nloyalty_prefix = "{PREFIX}"\n'))
    ensure_demo_data(till, products=30)
    till.login("1111")
    yield till
    till.db.close()
