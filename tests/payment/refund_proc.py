"""A till process for the refund kill test: after its start it settles what the last run
left pending, then refunds the card sales one piece at a time through the terminal,
printing `waiting` the moment each refund_started is committed (the parent kills it from
then on), and `done` when nothing is left to refund."""

from __future__ import annotations

import sys

from cli.assemble import build_till
from cli.payment_wiring import build_terminal
from contract.config import load_config
from firmware.payment_errors import PaymentNotApproved
from firmware.permissions import Action


def main(config_path: str) -> int:
    till = build_till(load_config(config_path))
    build_terminal(till.config, till)
    till.login("1111")
    payments = till.payments
    assert payments is not None
    till.subscribe(lambda event, data: print(data["state"], flush=True)
                   if event == "refund" else None)
    payments.resolve_refund()  # before any other refund: what became of the last one?
    sales = [e.seq for e in till.journal.entries() if e.type == "sale"]
    approval = till.approve("9999", Action.REFUND)
    for seq in sales:
        while True:
            left = [n for n, q in till.refundable(seq).items() if q > 0]
            if not left:
                break
            try:
                payments.refund(seq, {left[0]: 1}, approval)
            except PaymentNotApproved:
                continue  # not received by the terminal: asked again with a new request
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
