"""A till process for the kill test: after its start it settles what the last run left
pending, then sells `target` tickets by card through the terminal, printing `waiting` the
moment each payment_started is committed (the parent kills it from then on)."""

from __future__ import annotations

import random
import sys

from cli.assemble import build_till
from cli.payment_wiring import build_terminal
from contract.config import load_config
from firmware.sim import ensure_demo_data


def main(config_path: str, target: int) -> int:
    till = build_till(load_config(config_path))
    ensure_demo_data(till, products=10)
    build_terminal(till.config, till)
    till.login("1111")
    payments = till.payments
    assert payments is not None
    till.subscribe(lambda event, data: print(data["state"], flush=True)
                   if event == "payment" else None)
    payments.resolve()  # before any other payment: what became of the last one?
    product = next(p for p in till.catalogue.search("", limit=50) if not p.sold_by_weight)
    while sum(1 for e in till.journal.entries() if e.type == "sale") < target:
        if till.ticket.is_empty:
            till.add_product(product.id, random.randint(1, 5))
        payments.pay()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
