"""The PIN terminal's long-lived worker thread (firmware/worker.py)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from firmware.till import TillService
from firmware.worker import Worker


def run(worker: Worker, call: Any) -> Any:
    """Submits `call` and waits for its result."""
    done, box = threading.Event(), []

    def wrapped() -> None:
        try:
            box.append(call())
        finally:
            done.set()

    worker.submit(wrapped)
    assert done.wait(10)
    return box[0] if box else None


def test_calls_run_in_order_on_one_thread_and_survive_a_failure(
        caplog: pytest.LogCaptureFixture) -> None:
    worker = Worker("test-worker")
    seen: list[tuple[int, int]] = []
    gate = threading.Event()
    worker.submit(gate.wait)  # holds the worker while three more calls queue up
    worker.submit(lambda: seen.append((1, threading.get_ident())))
    worker.submit(lambda: 1 / 0)
    worker.submit(lambda: seen.append((3, threading.get_ident())))
    with caplog.at_level(logging.ERROR, logger="firmware.worker"):
        gate.set()
        run(worker, lambda: None)
    assert [n for n, _ in seen] == [1, 3]
    assert len({ident for _, ident in seen}) == 1 and seen[0][1] != threading.get_ident()
    assert "test-worker: a background call failed" in caplog.text
    assert "ZeroDivisionError" in caplog.text


def test_ends_when_idle_runs_its_exit_and_starts_again() -> None:
    exits: list[int] = []
    ended = threading.Event()

    def on_exit() -> None:
        exits.append(threading.get_ident())
        ended.set()

    worker = Worker("idle-worker", idle_seconds=0.2, on_exit=on_exit)
    first = run(worker, threading.get_ident)
    assert ended.wait(10)
    assert exits == [first]
    assert not worker.running
    second = run(worker, threading.get_ident)
    assert worker.running and second != threading.get_ident()


def test_idle_seconds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="idle_seconds must be positive, not 0"):
        Worker("bad", idle_seconds=0)


def test_payments_on_the_worker_keep_one_thread_and_database_connection(
        pay_till: TillService) -> None:
    payments = pay_till.payments
    assert payments is not None

    def pay() -> tuple[int, int, str]:
        pay_till.add_plu("1")
        result = payments.send(payments.start())
        return threading.get_ident(), id(pay_till.db.connection()), result.outcome

    first, second = run(payments.worker, pay), run(payments.worker, pay)
    assert first[2] == second[2] == "approved"
    assert first[:2] == second[:2]  # the same thread, the same SQLite connection
    assert first[1] != id(pay_till.db.connection())  # not the test's own connection
    assert pay_till.journal.verify().ok
