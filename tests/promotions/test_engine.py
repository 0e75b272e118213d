"""The promotion engine on its own: each type, overlaps, allocation, grouping, refund shares;
and the contract's checks of a promotions message."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from contract.promotions import TIMEZONE, PromotionError, parse_promotions
from firmware.promotions import Item, allocate, evaluate, refund_share


def promos(*items: dict) -> tuple:
    base = {"version": 1, "name": "Actie"}
    return parse_promotions({"version": 1, "promotions": [{**base, **i} for i in items]}).promotions


def item(line_no: int, price: int, quantity: int = 1, sku: str = "plu:1", category: str = "",
         by_piece: bool = True) -> Item:
    return Item(line_no, sku, category, price, quantity, by_piece)


def test_n_for_price_mix_and_match_dearest_first_and_shares_add_up():
    p = promos({"id": "p1", "type": "n_for_price", "n": 3, "price_cents": 500,
                "products": ["plu:1", "plu:2"]})
    items = [item(1, 199, 2, "plu:1"), item(2, 249, 2, "plu:2"), item(3, 999, 1, "plu:3")]
    [applied] = evaluate(items, p)
    # one group: 249 + 249 + 199 = 697 for 500; the fourth piece (199) stays at its price
    assert applied.discount == 197
    assert sum(c for _, c in applied.shares) == 197
    assert dict(applied.shares) == allocate(197, {1: 199, 2: 498})
    assert applied.to_dict()["lines"] == [{"line_no": 1, "discount": 56},
                                          {"line_no": 2, "discount": 141}]


def test_n_for_price_group_dearer_than_its_pieces_is_not_formed():
    p = promos({"id": "p1", "type": "n_for_price", "n": 2, "price_cents": 500,
                "products": ["plu:1"]})
    assert evaluate([item(1, 200, 2)], p) == []


def test_buy_get_free_cheapest_of_each_group_spread_over_the_group():
    p = promos({"id": "b", "type": "buy_get", "buy": 2, "get": 1, "categories": ["Snacks"]})
    items = [item(1, 300, 1, "plu:1", "Snacks"), item(2, 100, 1, "plu:2", "Snacks"),
             item(3, 200, 1, "plu:3", "Snacks"), item(4, 150, 1, "plu:4", "Snacks")]
    [applied] = evaluate(items, p)
    assert applied.discount == 150  # 300,200,150 | 100 left over: 150 free
    assert dict(applied.shares) == allocate(150, {1: 300, 3: 200, 4: 150})
    assert 2 not in dict(applied.shares)


def test_nth_percent_second_at_half_price_per_pair_rounded_half_up():
    p = promos({"id": "h", "type": "nth_percent", "n": 2, "percent": 50, "products": ["plu:1"]})
    [applied] = evaluate([item(1, 199, 5)], p)
    assert applied.discount == 2 * 100  # two pairs, 99.5 -> 100 each; fifth piece full price
    assert applied.shares == ((1, 200),)


def test_percent_also_covers_goods_by_weight_but_groups_do_not():
    p = promos({"id": "k", "type": "percent", "percent": 10, "categories": ["Zuivel"]},
               {"id": "z", "type": "buy_get", "buy": 1, "get": 1, "categories": ["Zuivel"]})
    cheese = item(1, 1295, 1, "plu:99001", "Zuivel", by_piece=False)
    [applied] = evaluate([cheese], p)
    assert applied.promotion_id == "k" and applied.discount == 130


def test_overlap_best_first_each_piece_once_ties_to_smaller_id():
    p = promos({"id": "a10", "type": "percent", "percent": 10, "products": ["plu:1"]},
               {"id": "b3for2", "type": "buy_get", "buy": 2, "get": 1, "products": ["plu:1"]},
               {"id": "c10", "type": "percent", "percent": 10, "products": ["plu:1"]})
    applied = evaluate([item(1, 100, 4)], p)
    # 3-for-2 gives 100 on three pieces; then the fourth piece: a10 and c10 tie, a10 wins
    assert [(a.promotion_id, a.discount) for a in applied] == [("b3for2", 100), ("a10", 10)]
    assert evaluate([item(1, 100, 4)], tuple(reversed(p))) == applied


def test_bulk_groups_equal_piece_by_piece():
    rng = random.Random(7)
    for _ in range(200):
        kind = rng.choice(["n_for_price", "buy_get", "nth_percent"])
        params = {"n_for_price": {"n": rng.randint(2, 5), "price_cents": rng.randint(100, 900)},
                  "buy_get": {"buy": rng.randint(1, 3), "get": rng.randint(1, 2)},
                  "nth_percent": {"n": rng.randint(2, 4), "percent": rng.randint(1, 100)}}[kind]
        p = promos({"id": "x", "type": kind, "products": ["plu:1"], **params})
        lines = [item(i, rng.randint(1, 500), rng.randint(1, 12)) for i in range(1, 6)]
        pieces = [item(n, line.unit_price, 1) for line in lines
                  for n in [line.line_no * 100 + k for k in range(line.quantity)]]
        bulk, single = evaluate(lines, p), evaluate(pieces, p)
        assert [a.discount for a in bulk] == [a.discount for a in single]
        for a in bulk:
            assert sum(c for _, c in a.shares) == a.discount


def test_large_quantity_is_grouped_not_enumerated():
    p = promos({"id": "h", "type": "nth_percent", "n": 2, "percent": 50, "products": ["plu:1"]})
    [applied] = evaluate([item(1, 101, 9999)], p)
    assert applied.discount == 4999 * 51


def test_allocate_sums_exactly_and_ties_go_to_the_lower_line():
    assert allocate(10, {1: 1, 2: 1, 3: 1}) == {1: 4, 2: 3, 3: 3}
    rng = random.Random(3)
    for _ in range(500):
        value = {n: rng.randint(1, 10_000) for n in range(1, rng.randint(2, 9))}
        discount = rng.randint(0, sum(value.values()))
        assert sum(allocate(discount, value).values()) == discount


def test_refund_share_in_any_steps_gives_back_exactly_the_share():
    assert [refund_share(97, 3, before, 1) for before in range(3)] == [32, 32, 33]
    assert refund_share(97, 3, 0, 2) + refund_share(97, 3, 2, 1) == 97
    assert refund_share(97, 3, 0, 3) == 97


def test_time_windows_dates_hours_weekdays_and_store_in_amsterdam_time():
    [p] = promos({"id": "w", "type": "percent", "percent": 5, "products": ["plu:1"],
                  "valid_from": "2026-03-28", "valid_until": "2026-04-05",
                  "time_from": "08:00", "time_until": "12:00", "weekdays": [6, 7],
                  "stores": ["s1"]})
    def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
        return dt.datetime(2026, month, day, hour, minute, tzinfo=TIMEZONE)
    assert p.active_at(at(28, 8), "s1")  # Saturday 08:00
    assert not p.active_at(at(28, 7, 59), "s1")
    assert not p.active_at(at(28, 12), "s1")  # until is exclusive
    assert not p.active_at(at(30, 9), "s1")  # Monday
    assert not p.active_at(at(28, 9), "s2")
    assert not p.active_at(at(11, 9, month=4), "s1")  # after valid_until
    # summer time starts 29 March: 07:30 UTC is 09:30 in Amsterdam, 06:30 UTC is 08:30
    assert p.active_at(dt.datetime(2026, 3, 29, 6, 30, tzinfo=dt.UTC), "s1")
    assert not p.active_at(dt.datetime(2026, 3, 28, 6, 30, tzinfo=dt.UTC), "s1")  # 07:30 CET


@pytest.mark.parametrize(("change", "where", "reason"), [
    ({"type": "half"}, "p1", "'type' is not one of"),
    ({"n": 1}, "p1", "'n' is not an integer 2..100"),
    ({"price_cents": 1.5}, "p1", "'price_cents' is not an integer"),
    ({"products": ["abc"]}, "p1", "products: 'abc' is not a GTIN"),
    ({"products": ["8712345678905"]}, "p1", "products:"),
    ({"products": [], "categories": []}, "p1", "covers nothing"),
    ({"percent": 10}, "p1", "percent not used by type n_for_price"),
    ({"valid_from": "2026-02-30"}, "p1", "'valid_from' is not a date"),
    ({"valid_from": "2026-05-01", "valid_until": "2026-04-01"}, "p1", "is before valid_from"),
    ({"time_from": "12:00", "time_until": "08:00"}, "p1", "is not after"),
    ({"weekdays": [0]}, "p1", "'weekdays'"),
    ({"name": "x" * 41}, "p1", "'name' has 41 characters"),
    ({"name": "A\x1bB"}, "p1", "control character"),
    ({"colour": "red"}, "p1", "unknown field(s) colour"),
    ({"version": 0}, "p1", "'version' is not an integer"),
])
def test_bad_promotion_is_a_typed_error_naming_promotion_and_field(change, where, reason):
    good = {"id": "p1", "name": "3 voor 5", "version": 1, "type": "n_for_price", "n": 3,
            "price_cents": 500, "products": ["plu:1"]}
    with pytest.raises(PromotionError) as caught:
        parse_promotions({"version": 4, "promotions": [{**good, **change}]})
    assert caught.value.where.startswith("promotions v4 promotions[0]")
    assert where in caught.value.where
    assert reason in caught.value.reason


def test_message_level_errors():
    with pytest.raises(PromotionError, match="'version'"):
        parse_promotions({"promotions": []})
    with pytest.raises(PromotionError, match="listed twice"):
        parse_promotions({"version": 1, "promotions": [
            {"id": "a", "name": "x", "version": 1, "type": "percent", "percent": 1,
             "products": ["plu:1"]}] * 2})
    with pytest.raises(PromotionError, match="at most 10000"):
        parse_promotions({"version": 1, "promotions": [{}] * 10_001})


def eager(items: list[Item], promotions: tuple) -> list[tuple[str, int]]:
    """The overlap rule worked out the slow way: every round, every promotion alone on the
    pieces still free; the largest discount (ties: smaller id) is taken."""
    free = {i.line_no: i.quantity for i in items}
    left = list(promotions)
    chosen = []
    while left:
        rest = [Item(i.line_no, i.sku, i.category, i.unit_price, free[i.line_no], i.by_piece)
                for i in items if free[i.line_no] > 0]
        found = [(a.discount, p.id, a) for p in left for a in evaluate(rest, (p,))]
        if not found:
            break
        discount, pid, _applied = min(found, key=lambda f: (-f[0], f[1]))
        chosen.append((pid, discount))
        left = [p for p in left if p.id != pid]
        used = pieces_used(rest, next(p for p in promotions if p.id == pid))
        for line_no, pieces in used.items():
            free[line_no] -= pieces
    return chosen


def pieces_used(items: list[Item], promotion) -> dict[int, int]:
    """Pieces a single promotion takes: for groups, the first whole beneficial groups of the
    dearest-first order; for percent, every covered line."""
    covered = [i for i in items if promotion.covers(i.sku, i.category)
               and (i.by_piece or promotion.type == "percent")]
    if promotion.type == "percent":
        return {i.line_no: i.quantity for i in covered}
    size = promotion.n if promotion.type != "buy_get" else promotion.buy + promotion.get
    pieces = sorted((-i.unit_price, i.line_no) for i in covered for _ in range(i.quantity))
    used: dict[int, int] = {}
    for start in range(0, len(pieces) - size + 1, size):
        group = [(-p, n) for p, n in pieces[start:start + size]]
        if promotion.type == "n_for_price" and sum(p for p, _ in group) <= promotion.price_cents:
            break
        if promotion.type == "nth_percent" and group[-1][0] * promotion.percent * 2 + 100 < 200:
            continue
        for _, n in group:
            used[n] = used.get(n, 0) + 1
    return used


def test_lazy_choice_equals_working_every_promotion_out_each_round():
    rng = random.Random(5)
    skus = [f"plu:{n}" for n in range(1, 9)]
    for _ in range(150):
        specs = []
        for k in range(rng.randint(2, 7)):
            kind = rng.choice(["n_for_price", "buy_get", "nth_percent", "percent"])
            params = {"n_for_price": {"n": rng.randint(2, 4), "price_cents": rng.randint(50, 600)},
                      "buy_get": {"buy": rng.randint(1, 3), "get": rng.randint(1, 2)},
                      "nth_percent": {"n": rng.randint(2, 3), "percent": rng.randint(1, 100)},
                      "percent": {"percent": rng.randint(1, 50)}}[kind]
            specs.append({"id": f"p{k}", "type": kind, "products": rng.sample(skus, 3), **params})
        p = promos(*specs)
        items = [item(n, rng.randint(1, 400), rng.randint(1, 5), rng.choice(skus),
                      by_piece=rng.random() > 0.1) for n in range(1, rng.randint(2, 10))]
        items = [i if i.by_piece else Item(i.line_no, i.sku, "", i.unit_price, 1, False)
                 for i in items]
        assert [(a.promotion_id, a.discount) for a in evaluate(items, p)] == eager(items, p)
