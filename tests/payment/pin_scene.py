"""Child process of tests/payment/test_pin_ui.py: the PIN terminal on the real Kivy window.

Usage: python -m tests.payment.pin_scene WIDTHxHEIGHT OUT_DIR VAR_DIR
A simulated terminal over HTTPS on loopback is attached to the till; the cashier pays a ticket
by Pin: aborted while waiting, declined, then approved (the done screen); a second ticket's
payment whose answer was lost is checked ("checking the last payment") until approved.
Writes OUT_DIR/pin-WxH.json and a PNG per step.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.ui.scenario import Driver, approve, run_scene

TERMINAL: dict[str, Any] = {}


def attach(app: Any, d: Driver) -> None:
    from drivers.payment.adyen import AdyenTerminal
    from drivers.payment.crypto import SharedKey
    from drivers.payment.sim import SimTerminal

    key = SharedKey("kassa", "scene passphrase", 1)
    sim = SimTerminal(key, directory=Path(d.out)).start()
    app.till.attach_terminal(AdyenTerminal(sim.url, sim.poiid, "t1", key=key,
                                           ca_file=str(sim.cert_file), timeout=30),
                             sim.poiid, status_seconds=30)
    TERMINAL["sim"] = sim


def scene(d: Driver) -> Iterator[Any]:
    app, till = d.app, d.app.till
    sim = TERMINAL["sim"]
    sm = app.sm
    yield (lambda: sm.current == "login", "the login screen")
    yield 0.3
    login = sm.get_screen("login")
    d.type(login.ids.keypad, "1111")
    d.key(login.ids.keypad, "OK")
    yield (lambda: sm.current == "sale", "the sale screen after login")
    till.add_plu("1", 2)
    till.add_plu("2")
    yield 0.3
    app.go("payment")
    yield (lambda: sm.current == "payment", "the payment screen")
    payment = sm.get_screen("payment")
    yield 0.3
    d.tap(payment.ids.tab_card)
    yield 0.3
    d.shot("p1-payment-pin")
    d.result["enter_text"] = payment.ids.pay_keypad.enter_text
    d.result["reference_shown"] = payment.ids.reference.opacity

    sim.behave("no_answer")  # the shopper never finishes: the cashier aborts
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: sm.current == "terminal" and len(sim.charges) == 1, "the waiting screen")
    terminal = sm.get_screen("terminal")
    yield 0.3
    d.shot("p2-waiting")
    d.result["waiting"] = [terminal.ids.headline.text, terminal.ids.amount.text]
    d.tap(terminal.ids.action)
    yield (lambda: terminal.state == "declined", "the abort to come back")
    yield 0.3
    d.shot("p3-aborted")
    d.result["aborted"] = [terminal.ids.headline.text, terminal.ids.detail.text]
    d.tap(terminal.ids.action)
    yield (lambda: sm.current == "payment", "back to the payment screen")
    yield 0.3
    sim.behave("decline")
    d.tap(payment.ids.tab_card)
    yield 0.3
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: terminal.state == "declined" and len(sim.charges) == 2, "the refusal")
    yield 0.3
    d.shot("p4-declined")
    d.result["declined"] = [terminal.ids.headline.text, terminal.ids.detail.text,
                            terminal.ids.action.text]
    d.tap(terminal.ids.action)
    yield (lambda: sm.current == "payment", "back to the payment screen again")
    yield 0.3
    sim.behave("slow", 0.5)
    d.tap(payment.ids.tab_card)
    yield 0.3
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: terminal.state == "approved", "the approval")
    yield 0.3
    d.shot("p5-approved")
    d.result["approved"] = [terminal.ids.headline.text, terminal.ids.detail.text,
                            terminal.ids.action.text]
    d.result["merchant_button"] = [terminal.ids.merchant_copy.text,
                                   terminal.ids.merchant_copy.opacity]
    d.tap(terminal.ids.merchant_copy)  # [payment] merchant_copy = "ask": on request
    yield (lambda: terminal.message, "the merchant copy to print")
    d.result["merchant_copy"] = [terminal.message, terminal.merchant_copy_offered]
    d.tap(terminal.ids.action)
    yield (lambda: sm.current == "done", "the done screen")
    yield 0.3
    d.shot("p6-done")
    card_sale = till.last_sale_seq()

    # The first item back, to the same card: the manager's PIN, then the terminal's Reversal.
    app.go("sale")
    yield (lambda: sm.current == "sale", "the sale screen for the refund")
    yield 0.3
    d.tap(sm.get_screen("sale").ids.manager)
    yield (lambda: sm.current == "manager", "the manager screen")
    manager = sm.get_screen("manager")
    yield 0.3
    d.tap(manager.ids.refund)
    yield 0.3
    keypad = manager.ids.refund_keypad
    d.type(keypad, f"{card_sale}")
    d.key(keypad, "OK")
    yield (lambda: manager.panel == "refund_lines", "the card sale's lines")
    yield 0.3
    d.tap(_row_plus(manager, 1))
    yield 0.2
    sim.behave_refund("slow", 4.0)  # the acquirer takes its time: the screen waits
    d.tap(manager.ids.do_card_refund)
    yield from approve(d, "the refund to the card")
    yield (lambda: manager.refund_waiting, "the refund to wait for the terminal")
    # read at once: on a loaded machine the frames after this may outlast the wait
    d.result["refund_waiting"] = [manager.message, manager.ids.do_card_refund.disabled,
                                  [e.type for e in till.journal.entries()][-1]]
    yield 0.3
    d.shot("p8a-refund-waiting")
    yield (lambda: len(sim.refunds) == 1 and "kaart" in manager.message.lower(),
           "the refund through the terminal")
    yield 0.3
    d.shot("p8-refunded")
    d.result["refund"] = {"message": manager.message, "terminal": sim.refunds[0].amount,
                          "original": sim.refunds[0].transaction_ref}

    # A second ticket whose answer is lost: the till asks until the terminal knows.
    app.go("sale")
    till.add_plu("3")
    pending = till.payments.start()
    sim.behave("slow", 2.0)
    threading.Thread(target=lambda: _send_lost(sim, till, pending), daemon=True).start()
    yield (lambda: len(sim.charges) == 4, "the second payment at the terminal")
    app.screen("terminal").check()
    yield (lambda: sm.current == "terminal" and terminal.state == "checking", "checking")
    yield 0.3
    d.shot("p7-checking")
    d.result["checking"] = [terminal.ids.headline.text, terminal.ids.detail.text]
    yield (lambda: terminal.state == "approved", "the checked approval", 15)
    d.tap(terminal.ids.action)
    yield (lambda: sm.current == "done", "the done screen after checking")
    yield 0.3
    d.result["charges"] = [(c.result, c.amount) for c in sim.charges]
    d.result["types"] = [e.type for e in till.journal.entries()
                         if e.type in ("payment_started", "payment_declined", "sale")]


def _row_plus(manager: Any, line_no: int) -> Any:
    """The + button of one line of the refund list."""
    return next(w for w in manager.ids.refund_rows.walk() if getattr(w, "line_no", None) == line_no)


def _send_lost(sim: Any, till: Any, pending: Any) -> None:
    """The request reaches the terminal, the answer never reaches the till."""
    with contextlib.suppress(OSError):
        till.payments.terminal.pay(pending.amount, pending.service_id, pending.transaction_ref)


def main(argv: list[str]) -> int:
    return run_scene(argv, "pin", {}, scene, setup=attach)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
