"""The head-office store path alone, without a broker: batches of sales from many terminals
(one or two entries each, as 1,000 tills selling at a realistic pace give) through
`check_message` and `store_batch` on a fresh PostgreSQL (or SQLite) database.

    PYTHONPATH=. .venv/bin/python -m bench.soak.store_bench --terminals 1000 --batches 40

Prints entries stored per second of store_batch; --profile writes a cProfile of it.
"""

from __future__ import annotations

import argparse
import cProfile
import random
import statistics
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.soak.payloads import sale_templates
from contract import chain, wire
from headoffice import registry
from headoffice.ingest.store import store_batch
from headoffice.ingest.validate import Candidate, KeyCache, check_message


class Till:
    def __init__(self, store: str, terminal: str) -> None:
        self.store, self.terminal = store, terminal
        self.key = Ed25519PrivateKey.generate()
        self.seq, self.prev = 0, chain.GENESIS

    def next(self, data: dict) -> tuple[str, bytes, str]:
        self.seq += 1
        body = {"v": chain.SCHEMA, "seq": self.seq, "type": "sale",
                "ts": "2026-12-03T12:00:00.000+01:00", "store": self.store,
                "terminal": self.terminal, "cashier": "anna", "training": False, "data": data}
        text = chain.canonical(body)
        digest = chain.entry_hash(self.prev, text)
        payload = wire.encode_journal(text.decode(), digest.hex(),
                                      chain.sign(self.key, digest).hex(), self.prev.hex())
        self.prev = digest
        return wire.terminal_topic(self.store, self.terminal, "journal"), payload, str(self.seq)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--terminals", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--profile", default="")
    args = parser.parse_args(argv)
    from bench.soak.office import create_database, drop_database
    from headoffice.db import database_proxy, open_office_db

    url = args.db or create_database(args.pg)
    try:
        db = open_office_db(url)
        tills = [Till(f"s{i // 10:03d}", f"t{i:04d}") for i in range(args.terminals)]
        for t in tills:
            registry.add_terminal(t.terminal, t.store,
                                  t.key.public_key().public_bytes_raw().hex())
        templates = sale_templates()
        rng = random.Random(5)
        keys = KeyCache()
        batches = []
        for _ in range(args.batches):
            batch = []
            picks = (rng.sample(tills, args.batch) if args.batch <= len(tills)
                     else rng.choices(tills, k=args.batch))  # several entries of a terminal
            for t in picks:
                topic, payload, seq = t.next(rng.choice(templates))
                out = check_message(topic, payload, seq, keys)
                assert isinstance(out, Candidate), out
                batch.append((topic, payload, out))
            batches.append(batch)
        prof = cProfile.Profile() if args.profile else None
        times = []
        for batch in batches:
            began = time.perf_counter()
            if prof:
                prof.enable()
            result = store_batch(db, batch, [], [])
            if prof:
                prof.disable()
            times.append(time.perf_counter() - began)
            assert result.stored == len(batch), result
        med = statistics.median(times)
        print(f"{args.terminals} terminals, batch {args.batch}: median {med * 1000:.1f} ms per "
              f"batch, {args.batch / med:.0f} entries/s (min {min(times) * 1000:.1f} ms)")
        if prof:
            prof.dump_stats(args.profile)
        database_proxy.obj.close()
    finally:
        if not args.db:
            drop_database(args.pg, url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
