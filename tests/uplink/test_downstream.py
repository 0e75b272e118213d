"""Catalogue, price and config messages: applied whole, once, in version order, or refused."""

from __future__ import annotations

import json

import pytest

from firmware.db import open_database
from firmware.models import DownstreamReject, Meta, Product
from firmware.uplink.downstream import Downstream, OutOfSequence, Rejected

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
