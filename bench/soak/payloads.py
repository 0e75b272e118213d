"""What the soak's terminals send: real sale bodies, and the flood and poison messages.

Sale data comes from real sales: a throw-away till (the till service with the demo
catalogue) sells a simulated day, and the `data` of its sale entries become the templates
every soak terminal appends to its own journal (schema-checked, chained and signed there).
The poison messages are signed by the poison terminal's own key and carry values no column
can hold (seq 10^20, an amount of 10^30); the flood is garbage at a high rate.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import chain, wire

POISON_SEQ = 10**20


def sale_templates(count: int = 12, seed: int = 7) -> list[dict[str, Any]]:
    """The `data` of `count` real sales, sold by the till service on a demo catalogue."""
    from cli.assemble import build_till
    from contract.config import parse_config
    from firmware.sim import ensure_demo_data, run_day

    with tempfile.TemporaryDirectory() as tmp_text:
        tmp = Path(tmp_text)
        text = (f'[terminal]\nstore = "tpl"\nterminal = "tpl"\n'
                f'signing_key = "{tmp / "journal.pem"}"\n'
                f'[database]\npath = "{tmp / "kassa.sqlite3"}"\n')
        till = build_till(parse_config(text, str(tmp / "kassa.toml"), var_dir=str(tmp / "var")))
        ensure_demo_data(till, products=40)
        run_day(till, count * 2, seed, out=lambda _line: None)
        sales = [e.body["data"] for e in till.journal.entries() if e.type == "sale"]
        till.db.close()
    return sales[:count]


def poison_messages(store: str, terminal: str, key: Ed25519PrivateKey) -> list[tuple[bytes, str]]:
    """(payload, seq property) of messages that are well formed and correctly signed but hold
    values out of every column's range: issue 17 point 1."""
    out = []
    variants: list[tuple[int, dict[str, Any]]] = [
        (POISON_SEQ, {"amount": 100, "reason": "poison: seq 10^20"}),
        (POISON_SEQ + 1, {"amount": 100, "reason": "poison: seq 10^20 + 1"}),
        (2**63, {"amount": 10**30, "reason": "poison: amount 10^30, seq 2^63"}),
    ]
    for seq, data in variants:
        body = {"v": chain.SCHEMA, "seq": seq, "type": "cash_in", "ts": "2026-01-01T12:00:00+01:00",
                "store": store, "terminal": terminal, "cashier": "anna", "training": False,
                "data": data}
        text = chain.canonical(body)
        digest = chain.entry_hash(chain.GENESIS, text)
        payload = wire.encode_journal(text.decode(), digest.hex(), chain.sign(key, digest).hex(),
                                      chain.GENESIS.hex())
        out.append((payload, str(seq)))
    return out


def flood_message(rng: random.Random) -> tuple[bytes, str]:
    """One garbage journal message: random bytes, broken JSON or a body that is not a
    journal entry, with a random seq property."""
    kind = rng.randrange(3)
    if kind == 0:
        payload = rng.randbytes(rng.randint(1, 600))
    elif kind == 1:
        payload = b'{"body": "{\\"seq\\": ' + str(rng.randint(1, 10**6)).encode() + b'", "hash":'
    else:
        payload = json.dumps({"body": "x" * rng.randint(1, 300), "hash": "00" * 32,
                              "sig": "11" * 64, "prev": "22" * 32}).encode()
    return payload, str(rng.randint(1, 10**6))
