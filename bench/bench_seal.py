"""What head office's seal costs the till: checking the seal of a full catalogue message
(header signature and SHA-256 of the body, contract/sealed.py `unseal`) beside parsing the
same body with json.loads, which the till does next anyway (the reference, same run).

Run: .venv/bin/python bench/bench_seal.py [--products 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contract.keys import JournalKey  # noqa: E402
from contract.sealed import body_bytes, seal, unseal  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    key = JournalKey.generate()
    products = [{"plu": str(i % 999_999 + 1), "name": f"Product {i}", "price_cents": 100 + i % 1000,
                 "vat_code": "low", "category": "Zuivel"} for i in range(args.products)]
    body = body_bytes({"version": 7, "mode": "full", "products": products})
    payload = seal(key, "catalogue", "s1", 7, body)
    sealed_ms, parse_ms = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        unseal(payload, key.public_key(), "catalogue", "s1")
        sealed_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        json.loads(body)
        parse_ms.append((time.perf_counter() - started) * 1000)
    seal_med, parse_med = statistics.median(sealed_ms), statistics.median(parse_ms)
    print(f"catalogue of {args.products} products, {len(body):,} bytes, {args.runs} runs")
    print(f"unseal (signature + SHA-256)   median {seal_med:7.1f} ms")
    print(f"json.loads of the body (ref)   median {parse_med:7.1f} ms")
    print(f"ratio unseal / parse            {seal_med / parse_med:.2f}")


if __name__ == "__main__":
    main()
