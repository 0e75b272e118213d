"""Promotion evaluation on a 100-line ticket (target <= 1 ms per scan), beside the same-run
reference `TillService.scan` without promotions.

One till with the 200-product demo catalogue; ticket by ticket it holds either 50 active
promotions or none (a full promotions message, then an empty one, each through the uplink's
downstream path, so the reference is the till exactly as it sells without promotions).
The 50: 20 mix & match "N for EUR X" over 10 products each, 10 "buy N get M free", 10 "Nth
at P% off" over 5 products each, 10 percentages off a category: every product is covered
by several, so promotions compete for the pieces. Measured:
- evaluation: the pricing rule working out the promotions of a 100-line ticket
  (`PromotionRule.given`: lines -> engine -> shares), the work each scan adds;
- scan: `TillService.scan` adding lines 91..100 of a ticket, with the promotions and without
  them (the reference), alternating ticket by ticket so both see the same machine load; the
  difference is what promotions cost a scan, the pricing step's snapshot included.

Run: .venv/bin/python bench/bench_promotions.py [--tickets 30] [--evaluations 500]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cli.assemble import build_till  # noqa: E402
from contract.config import parse_config  # noqa: E402
from contract.product_key import sku_of  # noqa: E402
from firmware.models import Product  # noqa: E402
from firmware.sim import ensure_demo_data, make_gtin  # noqa: E402
from firmware.uplink.downstream import Downstream  # noqa: E402

TARGET_MS = 1.0
LINES = 100
TIMED_FROM = 91  # lines 91..100 of each ticket are timed


def make_till(tmp: Path):
    tmp.mkdir(parents=True, exist_ok=True)
    text = (f'[terminal]\nstore = "bench"\nterminal = "bench-1"\n'
            f'signing_key = "{tmp / "journal.pem"}"\n[database]\npath = "{tmp / "kassa.sqlite3"}"\n')
    till = build_till(parse_config(text, str(tmp / "kassa.toml"), var_dir=str(tmp / "var")))
    ensure_demo_data(till, products=200)
    return till


def promotions(rng: random.Random) -> list[dict]:
    products = [(sku_of(p.gtin, p.plu), p.category) for p in Product.select().order_by(Product.id)]
    skus = [sku for sku, _ in products]
    out: list[dict] = []
    for i in range(20):
        out.append({"id": f"mm-{i:02d}", "name": f"Mix {i}", "version": 1, "type": "n_for_price",
                    "n": rng.randint(2, 4), "price_cents": rng.randint(300, 1500),
                    "products": rng.sample(skus, 10)})
    for i in range(10):
        out.append({"id": f"bg-{i:02d}", "name": f"Gratis {i}", "version": 1, "type": "buy_get",
                    "buy": rng.randint(1, 3), "get": 1, "products": rng.sample(skus, 5)})
        out.append({"id": f"nth-{i:02d}", "name": f"Tweede {i}", "version": 1,
                    "type": "nth_percent", "n": 2, "percent": rng.choice([25, 50]),
                    "products": rng.sample(skus, 5)})
    categories = sorted({category for _, category in products})
    for i in range(10):
        out.append({"id": f"pct-{i:02d}", "name": f"Korting {i}", "version": 1, "type": "percent",
                    "percent": rng.randint(5, 20), "categories": [categories[i % len(categories)]]})
    return out


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * p) - 1)]


def describe(samples: list[float]) -> str:
    return (f"median {statistics.median(samples):.3f} ms, p99 {percentile(samples, 0.99):.3f} ms"
            f" ({len(samples)} samples)")


def ticket(till, codes: list[str], timed: list[float]) -> None:
    """Scans a 100-line ticket, timing lines TIMED_FROM..100, then voids it."""
    for n, code in enumerate(codes, start=1):
        start = time.perf_counter()
        till.scan(code)
        if n >= TIMED_FROM:
            timed.append(ms(start))
    till.void_open_ticket()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=30)
    parser.add_argument("--evaluations", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="kassa-bench-") as tmp:
        till = make_till(Path(tmp))
        till.login("1111")
        downstream, version = Downstream(till.db), 0
        listed = promotions(rng)

        def deliver(items: list[dict]) -> None:
            nonlocal version
            version += 1
            data = {"version": version, "promotions": items}
            assert downstream.apply("promotions", json.dumps(data).encode()).applied

        tickets = [[make_gtin(rng.randint(1, 200)) for _ in range(LINES)]
                   for _ in range(args.tickets + 2)]
        with_promotions: list[float] = []
        without: list[float] = []
        for codes in tickets:  # alternating: both see the same machine load
            deliver(listed)
            ticket(till, codes, with_promotions)
            deliver([])
            ticket(till, codes, without)
        timed = LINES - TIMED_FROM + 1
        del with_promotions[:2 * timed], without[:2 * timed]  # two warm-up tickets
        deliver(listed)
        for code in tickets[0]:
            till.scan(code)
        rule, open_ticket = till.promotions, till.ticket
        given = rule.given(open_ticket)
        evaluation = []
        for _ in range(args.evaluations):
            start = time.perf_counter()
            rule.given(open_ticket)
            evaluation.append(ms(start))
        till.db.close()
    cost = statistics.median(with_promotions) - statistics.median(without)
    # the target is judged on medians: on a shared machine the p99 of both sides is other
    # processes' CPU time (printed with the load average beside it)
    ok = statistics.median(evaluation) <= TARGET_MS and cost <= TARGET_MS
    print(f"promotions on a {LINES}-line ticket: 50 active promotions,"
          f" {len(given)} given, {sum(p['discount'] for p in given)} cents off")
    print(f"  evaluation (PromotionRule.given, 100 lines)   : {describe(evaluation)}")
    print(f"  TillService.scan, lines 91-100, promotions    : {describe(with_promotions)}")
    print(f"  reference TillService.scan, no promotions     : {describe(without)}")
    print(f"  promotions add {cost:.3f} ms per scan (median), ratio"
          f" {statistics.median(with_promotions) / statistics.median(without):.2f}x")
    print(f"  target <= {TARGET_MS} ms per scan (medians): {'met' if ok else 'NOT met'};"
          f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
