"""Catalogue, price and config messages: applied whole, once, in version order, or refused."""

from __future__ import annotations

import json

import pytest

from contract import downstream as bounds
from firmware.db import open_database
from firmware.models import DownstreamReject, Meta, Product
from firmware.uplink.downstream import (
    Downstream,
    OutOfSequence,
    Rejected,
    _set_version,
    applied_version,
    reject_summary,
)

COLA = {"gtin": "8712345678906", "name": "Cola 1,5 l", "price_cents": 199, "vat_code": "low"}
BREAD = {"plu": "42", "name": "Brood wit", "price_cents": 289, "vat_code": "low",
         "sold_by_weight": False, "category": "bakkerij"}


@pytest.fixture
def down(tmp_path):
    db = open_database(tmp_path / "kassa.sqlite3")
    yield Downstream(db)
    db.close()


def msg(**fields) -> bytes:
    return json.dumps(fields).encode()


def prices() -> dict[str, int]:
    return {p.gtin or p.plu: p.price_cents for p in Product.select().where(Product.active)}


def test_full_catalogue_then_prices_then_stale_redelivery(down):
    out = down.apply("catalogue", msg(version=1, mode="full", products=[COLA, BREAD]))
    assert out.applied and prices() == {"08712345678906": 199, "42": 289}
    out = down.apply("prices", msg(version=2, base=1, prices=[{"plu": "0042",
                                                                "price_cents": 299}]))
    assert out.applied and prices()["42"] == 299
    again = down.apply("catalogue", msg(version=1, mode="full", products=[COLA, BREAD]))
    assert not again.applied and prices()["42"] == 299  # a retained copy changes nothing


def test_full_catalogue_deactivates_what_it_no_longer_lists(down):
    down.apply("catalogue", msg(version=1, mode="full", products=[COLA, BREAD]))
    down.apply("catalogue", msg(version=2, mode="full", products=[BREAD]))
    assert prices() == {"42": 289}
    assert Product.select().count() == 2  # kept for old tickets, only inactive


def test_delta_on_the_wrong_base_waits(down):
    down.apply("catalogue", msg(version=1, mode="full", products=[COLA]))
    with pytest.raises(OutOfSequence):
        down.apply("prices", msg(version=5, base=4, prices=[{"gtin": COLA["gtin"],
                                                             "price_cents": 1}]))
    assert prices() == {"08712345678906": 199}
    assert DownstreamReject.select().count() == 0


def test_price_list_with_an_unknown_product_is_not_half_applied(down):
    down.apply("catalogue", msg(version=1, mode="full", products=[COLA, BREAD]))
    bad = msg(version=2, base=1, prices=[{"plu": "42", "price_cents": 1},
                                         {"gtin": "4006381333931", "price_cents": 2}])
    with pytest.raises(Rejected, match="unknown product 04006381333931"):
        down.apply("prices", bad)
    assert prices() == {"08712345678906": 199, "42": 289}
    assert Meta.get(Meta.key == "catalogue_version").value == "1"
    reject = DownstreamReject.get()
    assert reject.kind == "prices" and "unknown product" in reject.reason


@pytest.mark.parametrize(("payload", "reason"), [
    (b"\xff\xfe", "not UTF-8 JSON"),
    (b"[1, 2]", "not a JSON object"),
    (msg(version=0, mode="full", products=[]), "'version'"),
    (msg(version=3, mode="sideways", products=[]), "'mode'"),
    (msg(version=3, mode="full", products=[{**COLA, "gtin": "8712345678907"}]), "check digit"),
    (msg(version=3, mode="full", products=[{**COLA, "vat_code": "luxury"}]), "vat_code"),
    (msg(version=3, mode="full", products=[{**COLA, "price_cents": 1.99}]), "price_cents"),
    (msg(version=3, mode="full", products=[{**COLA, "colour": "red"}]), "unknown field"),
    (msg(version=3, mode="full", products=[COLA, COLA]), "listed twice"),
])
def test_bad_catalogue_messages_are_refused_and_recorded(down, payload, reason):
    down.apply("catalogue", msg(version=1, mode="full", products=[BREAD]))
    with pytest.raises(Rejected, match=reason):
        down.apply("catalogue", payload)
    assert prices() == {"42": 289}
    assert DownstreamReject.select().count() == 1


def test_config_message_is_validated_by_the_config_parser(down):
    out = down.apply("config", msg(version=1, toml='[ui]\nlanguage = "en"\n'))
    assert out.applied
    assert Meta.get(Meta.key == "remote_config_toml").value == '[ui]\nlanguage = "en"\n'
    with pytest.raises(Rejected, match="ui.language"):
        down.apply("config", msg(version=2, toml='[ui]\nlanguage = "klingon"\n'))
    with pytest.raises(Rejected, match="cannot be set remotely"):
        down.apply("config", msg(version=2, toml='[mqtt]\nport = 1\n'))
    assert Meta.get(Meta.key == "remote_config_version").value == "1"
    assert DownstreamReject.select().count() == 2


@pytest.mark.parametrize(("payload", "reason"), [
    (msg(version=3, mode="full", products=[{**COLA, "price_cents": 9223372036854775808}]),
     "price_cents"),
    (msg(version=3, mode="full", products=[{**COLA, "price_cents": -1}]), "price_cents"),
    (msg(version=3, mode="full", products=[{**COLA, "name": "x" * 256}]), "256 characters"),
    (msg(version=3, mode="full", products=[{**COLA, "name": "Cola\u202eloc"}]), r"U\+202E"),
    (msg(version=3, mode="full", products=[{**COLA, "category": "\x1b[2J"}]), r"U\+001B"),
    (msg(version=3, mode="full", products=[{**COLA, "plu": True}]), "plu"),
    (msg(version=3, mode="full", products=[{**COLA, "gtin": "8" * 5000}]), "gtin"),
    (msg(version=9223372036854775000, mode="full", products=[COLA]), "'version'"),
    (msg(version=1_000_002, mode="full", products=[COLA]), "jumps 1000001 ahead"),
    (msg(version=3, mode="delta", base=3, products=[COLA]), "'base'"),
    (msg(version=3, mode="delta", base=1, products=[COLA], remove=["x" * 33]), "'remove'"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"{\"version\": " + b"9" * 5000 + b"}", "not UTF-8 JSON"),
])
def test_out_of_bounds_catalogues_are_refused_and_recorded(down, payload, reason):
    down.apply("catalogue", msg(version=1, mode="full", products=[BREAD]))
    with pytest.raises(Rejected, match=reason):
        down.apply("catalogue", payload)
    assert prices() == {"42": 289}
    assert DownstreamReject.select().count() == 1
    assert reject_summary()["refused"] == 1


def test_list_sizes_and_config_length_are_bounded(down, monkeypatch):
    monkeypatch.setattr(bounds, "MAX_PRODUCTS", 1)
    with pytest.raises(Rejected, match="2 items"):
        down.apply("catalogue", msg(version=1, mode="full", products=[COLA, BREAD]))
    with pytest.raises(Rejected, match="characters"):
        down.apply("config", msg(version=1, toml="#" * (bounds.MAX_CONFIG_TOML + 1)))
    monkeypatch.setattr(bounds, "MAX_PAYLOAD", 10)
    with pytest.raises(Rejected, match="exceed"):
        down.apply("prices", msg(version=2, base=1, prices=[]))


def test_versions_are_monotonic_and_an_old_one_is_ignored_visibly_once(down):
    down.apply("catalogue", msg(version=1, mode="full", products=[COLA, BREAD]))
    down.apply("prices", msg(version=2, base=1, prices=[{"plu": "42", "price_cents": 1}]))
    # the retained catalogue v1 comes again at each connect: superseded by the prices
    # message built on it, but not ignored (it was the last catalogue applied)
    again = down.apply("catalogue", msg(version=1, mode="full", products=[COLA, BREAD]))
    assert not again.applied and reject_summary()["ignored"] == 0
    old = down.apply("prices", msg(version=1, base=0, prices=[{"plu": "42", "price_cents": 5}]))
    assert not old.applied and old.detail.startswith("ignored: prices v1 is older")
    down.apply("prices", msg(version=1, base=0, prices=[{"plu": "42", "price_cents": 5}]))
    summary = reject_summary()
    assert summary["ignored"] == 1 and summary["refused"] == 0  # counted once
    assert summary["last"]["reason"] == "ignored: prices v1 is older than the applied v2"
    assert prices()["42"] == 1


def test_a_version_frozen_by_an_older_release_counts_as_none(down):
    _set_version("catalogue_version", 9223372036854775000)  # accepted before the bound
    assert applied_version("catalogue_version") == 0
    assert down.apply("catalogue", msg(version=5, mode="full", products=[COLA])).applied
    assert applied_version("catalogue_version") == 5


def test_a_refused_retained_message_is_counted_once(down):
    poison = msg(version=1, mode="full", products=[{**COLA, "price_cents": 2**63}])
    for _ in range(3):  # three starts of the uplink
        with pytest.raises(Rejected):
            down.apply("catalogue", poison)
    assert reject_summary()["refused"] == 1 and DownstreamReject.select().count() == 1


def test_an_unexpected_error_is_recorded_and_the_uplink_goes_on(tmp_path, monkeypatch):
    from contract.config import MqttConfig
    from firmware.uplink.client import Uplink

    db = open_database(tmp_path / "till.sqlite3")
    uplink = Uplink(db, "store1", "till1", MqttConfig(enabled=True, port=1))

    def broken(kind, payload, fleet=False):
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(uplink.downstream, "receive", broken)
    uplink._inbox.put(("catalogue", b"{}"))
    uplink.step()  # does not raise
    assert uplink.counters.rejected == 1
    assert "a bug in a handler" in DownstreamReject.get().reason
    db.close()
