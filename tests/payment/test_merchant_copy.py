"""The terminal's merchant receipt printed as a second receipt: on the cashier's request
([payment] merchant_copy = "ask") or after every card sale ("always"), read back from the
ESC/POS bytes the printer receives."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from cli.assemble import build_till
from cli.payment_wiring import build_terminal
from drivers.payment.sim import SimTerminal
from drivers.printer.factory import open_printer
from firmware.payment_errors import NoMerchantReceipt
from firmware.print_queue import PrintQueue
from firmware.sim import ensure_demo_data
from firmware.till import TillService
from tests.fixtures_till import RecordingDrawer
from tests.payment.conftest import payment_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "drivers"))
from escpos_lines import read_paper  # noqa: E402

PROFILE = "TM-T88III"


class PaperPrinter:
    """A real ESC/POS renderer (python-escpos Dummy) keeping each document's bytes."""

    def __init__(self) -> None:
        self.inner = open_printer("dummy", profile=PROFILE, columns=42)
        self.papers: list[bytes] = []

    def print_document(self, document: dict[str, Any]) -> None:
        self.inner.print_document(document)
        self.papers.append(self.inner.dummy.output)
        self.inner.dummy.clear()

    @property
    def state(self) -> str:
        return "ready"

    def close(self) -> None:
        self.inner.close()


def _till(tmp_path: Path, terminal: SimTerminal, mode: str) -> tuple[TillService, PaperPrinter]:
    config = payment_config(tmp_path, terminal)
    text = Path(config.source).read_text() + f'merchant_copy = "{mode}"\n'
    Path(config.source).write_text(text)
    from contract.config import load_config

    printer = PaperPrinter()
    queue = PrintQueue(printer)
    till = build_till(load_config(config.source), drawer=RecordingDrawer(), print_queue=queue)
    ensure_demo_data(till, products=10)
    build_terminal(till.config, till)
    till.login("1111")
    return till, printer


def _sell(till: TillService):  # noqa: ANN202
    product = next(p for p in till.catalogue.search("", limit=50) if not p.sold_by_weight)
    till.add_product(product.id, 2)
    return till.payments.pay().committed.entry


def _texts(printer: PaperPrinter, queue: PrintQueue) -> list[str]:
    assert queue.wait_idle(10)
    return [read_paper(paper, PROFILE).text for paper in printer.papers]


def test_on_request_the_merchant_lines_print_as_a_second_receipt(tmp_path: Path,
                                                                 terminal: SimTerminal) -> None:
    till, printer = _till(tmp_path, terminal, "ask")
    sale = _sell(till)
    first = _texts(printer, till.kernel.print_queue)
    assert len(first) == 1 and "Kaarthouderbon" in first[0]  # the customer's receipt only
    till.payments.print_merchant_copy(sale.seq)
    customer, merchant = _texts(printer, till.kernel.print_queue)
    assert "WINKELBON PIN" in merchant and "WINKELBON PIN" not in customer
    card = sale.body["data"]["tenders"][0]["card"]
    assert card["merchant_receipt"]  # journaled with the sale
    for line in card["merchant_receipt"]:
        assert line in merchant
    assert "GOEDGEKEURD" in merchant and f"t1-{sale.seq}" in merchant
    assert all(len(line.text) <= 42 for line in read_paper(printer.papers[1], PROFILE).lines)
    cash = till.add_product(1) and till.pay_cash(100_000)
    with pytest.raises(NoMerchantReceipt):  # a cash sale has no terminal lines
        till.payments.print_merchant_copy(cash.entry.seq)
    till.db.close()


@pytest.mark.parametrize(("mode", "papers"), [("always", 2), ("never", 1)])
def test_always_prints_it_after_the_sale_never_does_not(tmp_path: Path, terminal: SimTerminal,
                                                       mode: str, papers: int) -> None:
    till, printer = _till(tmp_path, terminal, mode)
    _sell(till)
    texts = _texts(printer, till.kernel.print_queue)
    assert len(texts) == papers
    assert ("WINKELBON PIN" in texts[-1]) == (mode == "always")
    till.db.close()
