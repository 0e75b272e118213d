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


def promotions(rng: random.Random, count: int = 50) -> list[dict]:
    """`count` promotions: 40% mix & match, 20% each buy/get, nth at % off, category %."""
    products = [(sku_of(p.gtin, p.plu), p.category) for p in Product.select().order_by(Product.id)]
    skus = [sku for sku, _ in products]
    out: list[dict] = []
    fifth = max(1, count // 5)
    for i in range(count - 3 * fifth):
        out.append({"id": f"mm-{i:02d}", "name": f"Mix {i}", "version": 1, "type": "n_for_price",
                    "n": rng.randint(2, 4), "price_cents": rng.randint(300, 1500),
                    "products": rng.sample(skus, 10)})
    for i in range(fifth):
        out.append({"id": f"bg-{i:02d}", "name": f"Gratis {i}", "version": 1, "type": "buy_get",
                    "buy": rng.randint(1, 3), "get": 1, "products": rng.sample(skus, 5)})
        out.append({"id": f"nth-{i:02d}", "name": f"Tweede {i}", "version": 1,
                    "type": "nth_percent", "n": 2, "percent": rng.choice([25, 50]),
                    "products": rng.sample(skus, 5)})
    categories = sorted({category for _, category in products})
    for i in range(fifth):
        out.append({"id": f"pct-{i:02d}", "name": f"Korting {i}", "version": 1, "type": "percent",
                    "percent": rng.randint(5, 20), "categories": [categories[i % len(categories)]]})
    return out


class Samples:
    """Wall-clock and CPU time (this thread's) of each sample, in ms. On a shared machine the
    wall clock also counts the time waiting for a CPU; the CPU time is what the work costs."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, work) -> None:  # noqa: ANN001
        wall, cpu = time.perf_counter(), time.thread_time()
        work()
        self.cpu.append((time.thread_time() - cpu) * 1000)
        self.wall.append((time.perf_counter() - wall) * 1000)

    def drop(self, n: int) -> None:
        del self.wall[:n], self.cpu[:n]


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * p) - 1)]


def describe(samples: list[float]) -> str:
    return (f"median {statistics.median(samples):.3f} ms, p99 {percentile(samples, 0.99):.3f} ms"
            f" ({len(samples)} samples)")


def ticket(till, codes: list[str], timed: Samples) -> None:
    """Scans a 100-line ticket, timing lines TIMED_FROM..100, then voids it."""
    for n, code in enumerate(codes, start=1):
        if n >= TIMED_FROM:
            timed.time(lambda code=code: till.scan(code))
        else:
            till.scan(code)
    till.void_open_ticket()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=30)
    parser.add_argument("--evaluations", type=int, default=500)
    parser.add_argument("--promotions", type=int, default=50, help="active promotions (>= 5)")
    args = parser.parse_args()
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="kassa-bench-") as tmp:
        till = make_till(Path(tmp))
        till.login("1111")
        downstream, version = Downstream(till.db), 0
        listed = promotions(rng, args.promotions)

        def deliver(items: list[dict]) -> None:
            nonlocal version
            version += 1
            data = {"version": version, "promotions": items}
            assert downstream.apply("promotions", json.dumps(data).encode()).applied

        tickets = [[make_gtin(rng.randint(1, 200)) for _ in range(LINES)]
                   for _ in range(args.tickets + 2)]
        with_promotions, without = Samples(), Samples()
        for codes in tickets:  # alternating: both see the same machine load
            deliver(listed)
            ticket(till, codes, with_promotions)
            deliver([])
            ticket(till, codes, without)
        timed = LINES - TIMED_FROM + 1
        with_promotions.drop(2 * timed)  # two warm-up tickets
        without.drop(2 * timed)
        deliver(listed)
        for code in tickets[0]:
            till.scan(code)
        rule, open_ticket = till.promotions, till.ticket
        given = rule.given(open_ticket)
        evaluation = Samples()
        for _ in range(args.evaluations):
            evaluation.time(lambda: rule.given(open_ticket))
        till.db.close()
    cost = statistics.median(with_promotions.cpu) - statistics.median(without.cpu)
    # judged on CPU-time medians: on the shared machine the wall clock is mostly the queue for
    # a CPU (the load average is printed); the wall-clock figures are printed beside them
    ok = statistics.median(evaluation.cpu) <= TARGET_MS and cost <= TARGET_MS
    print(f"promotions on a {LINES}-line ticket: {args.promotions} active promotions,"
          f" {len(given)} given, {sum(p['discount'] for p in given)} cents off;"
          f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, samples in (("evaluation (PromotionRule.given, 100 lines)", evaluation),
                           ("TillService.scan, lines 91-100, promotions ", with_promotions),
                           ("reference TillService.scan, no promotions ", without)):
        print(f"  {label}: CPU {describe(samples.cpu)}")
        print(f"  {' ' * len(label)}  wall {describe(samples.wall)}")
    wall_cost = statistics.median(with_promotions.wall) - statistics.median(without.wall)
    print(f"  promotions add {cost:.3f} ms CPU per scan (median; wall {wall_cost:.3f} ms), ratio"
          f" {statistics.median(with_promotions.cpu) / statistics.median(without.cpu):.1f}x")
    print(f"  target <= {TARGET_MS} ms per scan (CPU medians): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
