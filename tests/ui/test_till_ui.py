"""The till UI in a real Kivy window under Xvfb, at 800x480 and 1280x800.

Each size runs tests/ui/scenario.py in its own process (Kivy's window is a process-wide
singleton): log in, three scans through the simulated scanner, a rejected code, cash with
change, the receipt in the printer simulator, a refund with the manager PIN (by number at
800x480, by the receipt's QR code at 1280x800), X report, training on/off, the Z close.
Screenshots of every screen go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import shutil
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from contract.money import format_money
from tests.ui.xvfb import kivy_env, xvfb

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
SIZES = {"800x480": [], "1280x800": ["--qr"]}
SCREENS = ("01-login", "02-login-wrong-pin", "03-sale-empty", "04-sale-three-items",
           "05-scan-rejected", "06-sale-keypad", "07-sale-search", "08-payment",
           "09-done-printed", "10-manager", "11-refund-find", "12-refund-lines",
           "13-override-dialog", "14-refunded", "15-x-report", "16-cash-in-out",
           "17-sale-training", "18-cash-count", "19-z-report", "20-login-english",
           "21-drawer-left-open", "22-sale-customer-offer", "23-weight-entry", "24-recalled",
           "25-payment-split", "26-done-paper-out", "27-reason-keyboard",
           "28-card-refund-reference", "29-goods-received", "18b-cash-count-typing",
           "30-categories-page-2", "31-products-page-2", "32-status-worst",
           "33-status-worst-english")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    results = {}
    with xvfb(1280, 800) as display:
        for size, extra in SIZES.items():
            work = tmp_path_factory.mktemp(f"ui-{size}")
            env = {**kivy_env(display), "WATCHDOG_USEC": "1000000"}  # a ping every 0.5 s
            with NotifySocket(work / "notify") as notify:
                env["NOTIFY_SOCKET"] = str(notify.path)
                proc = subprocess.run(
                    [sys.executable, "-m", "tests.ui.scenario", size, str(work / "out"),
                     str(work / "var"), *extra],
                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            result_file = work / "out" / f"result-{size}.json"
            assert result_file.exists(), f"{size}: no result (rc {proc.returncode})\n{proc.stderr[-3000:]}"
            result = json.loads(result_file.read_text())
            result["rc"], result["out"] = proc.returncode, work / "out"
            result["systemd"] = notify.messages
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for png in (work / "out").glob("*.png"):
                shutil.copy(png, ARTIFACTS / png.name)
            results[size] = result
    return results


class NotifySocket:
    """systemd's side of Type=notify: a datagram socket that collects what the till sends."""

    def __init__(self, path: Path) -> None:
        self.path, self.messages = path, []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.thread = threading.Thread(target=self._read, daemon=True)

    def __enter__(self) -> NotifySocket:
        self.sock.bind(str(self.path))
        self.sock.settimeout(0.2)
        self.running = True
        self.thread.start()
        return self

    def _read(self) -> None:
        while self.running:
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue
            except OSError:
                return

    def __exit__(self, *_exc: object) -> None:
        self.running = False
        self.thread.join(5)
        self.sock.close()
        self.path.unlink(missing_ok=True)


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("size", SIZES)
def test_whole_day_passes(runs: dict, size: str) -> None:
    result = runs[size]
    assert result["error"] is None, result["error"]
    assert result["rc"] == 0 and result["finished"]
    assert result["steps"] == ["login", "scan3", "paid", "customer_sale", "refund",
                               "manager_extras", "z_close"]
    for kind in ("login", "sale", "refund", "x_report", "training_on", "training_off", "z_close",
                 "customer_favourite", "offer_redemption", "goods_received", "cash_out",
                 "receipt_copy"):
        assert kind in result["journal"], f"{kind} missing from the journal"


@pytest.mark.parametrize("size", SIZES)
def test_every_screen_is_captured_at_its_size(runs: dict, size: str) -> None:
    width, height = (int(v) for v in size.split("x"))
    for screen in SCREENS:
        path = ARTIFACTS / f"{size}-{screen}.png"
        assert path.exists(), f"no screenshot {path.name}"
        assert png_size(path) == (width, height)
        assert path.stat().st_size > 5000, f"{path.name} looks empty"


@pytest.mark.parametrize("size", SIZES)
def test_touch_targets_are_at_least_60_px(runs: dict, size: str) -> None:
    assert runs[size]["small_targets"] == []


@pytest.mark.parametrize("size", SIZES)
def test_every_screen_passes_the_screen_check(runs: dict, size: str) -> None:
    """No overlapping touch targets, every caption fits (no cut, no broken word), every
    target at least 9 mm: tests/ui/screen_check.py on each screen and dialog shown."""
    result = runs[size]
    assert set(result["checked"]) >= set(SCREENS)
    assert result["findings"] == [], "\n".join(result["findings"])


@pytest.mark.parametrize("size", SIZES)
def test_every_category_and_product_is_reached_by_the_arrows(runs: dict, size: str) -> None:
    paging = runs[size]["paging"]
    pages = paging["category_pages"]
    assert len(pages) > 1, "the demo catalogue's categories should need more than one page"
    shown = [text for page in pages for text in page]
    assert shown == [pages[0][0], *paging["categories"]]  # the favourites, then each once
    assert all(set(a).isdisjoint(b) for a, b in zip(pages, pages[1:], strict=False))
    assert paging["where"] == f"{len(pages)}/{len(pages)}"
    products = paging["product_pages"]
    assert len(products) > 1 and all(products)
    assert [name for page in products for name in page] == paging["product_names"]
    assert paging["product_where"] == f"{len(products)}/{len(products)}"


def test_the_larger_screen_shows_more_products_per_page(runs: dict) -> None:
    """Issue 22 point 12: at 1280x800 the product grid is not the 800x480 one blown up; a
    page of the largest category holds more products (12 on the 7" panel)."""
    small, large = (runs[size]["paging"]["product_pages"] for size in SIZES)
    assert len(small[0]) == 12
    assert len(large[0]) > len(small[0])
    assert len(large) < len(small)


@pytest.mark.parametrize("size", SIZES)
def test_the_cash_count_shows_every_coin_and_note_and_types_counts(runs: dict, size: str) -> None:
    result = runs[size]
    buttons = result["count_buttons"]
    assert len(buttons) == 15 and buttons[0] == f"{format_money(50000)}\n× 0"
    assert buttons[-1] == f"{format_money(1)}\n× 0"
    counted = result["counted"]
    assert counted["counts"] == {"2000": 3, "1000": 1} and counted["total"] == 7000
    assert counted["chosen"] == 500  # OK moved on to the next coin


@pytest.mark.parametrize("size", SIZES)
def test_the_status_bar_keeps_one_line_in_its_worst_state(runs: dict, size: str) -> None:
    nl, en = runs[size]["worst_status"]
    assert nl[1:5] == ["Geen uplink ↑99999 ↻", "Printer: papier op",
                       "Lade: te lang open", "Scanner: niet verbonden"]
    assert en[4] == "Scanner: disconnected" and en[1] == "No uplink ↑99999 ↻"
    checked = [f for f in runs[size]["findings"] if "status-worst" in f]
    assert checked == []
    for findings in runs[size]["long_name"]:  # only the cashier's name is cut, with …
        assert len(findings) == 1 and findings[0].startswith(
            "text cut with …: StatusItem#st_cashier 'Maria-Josephina"), findings


@pytest.mark.parametrize("size", SIZES)
def test_unknown_code_flashes_beeps_and_adds_nothing(runs: dict, size: str) -> None:
    reject = runs[size]["reject"]
    assert reject["lines"] == 3
    assert reject["beeps"] == 1
    assert "8700000999992" in reject["message"] and "Onbekende code" in reject["message"]


@pytest.mark.parametrize("size", SIZES)
def test_what_is_hidden_is_not_drawn(runs: dict, size: str) -> None:
    """Kivy draws a canvas at opacity 0 all the same: the red flash's full-window rectangle is
    in its canvas only while it shows, and the hidden training banner has no text to draw."""
    assert runs[size]["hidden_drawn"] == {"flash": 0, "training banner": 0,
                                          "flash while flashing": 1, "flash faded": 0}


@pytest.mark.parametrize("size", SIZES)
def test_training_cash_sale_shows_the_drawer_opened_on_screen_only(runs: dict, size: str) -> None:
    sale = runs[size]["training_sale"]
    assert sale["training"] is True and sale["drawer"] == "training"
    assert sale["message"] == "Lade geopend (training)"
    assert sale["pulses"] == 0  # the simulated drawer was never pulsed


@pytest.mark.parametrize("size", SIZES)
def test_cash_with_change_and_rounding(runs: dict, size: str) -> None:
    result = runs[size]
    pay, done = result["payment"], result["done"]
    change = pay["given"] - pay["cash_due"]
    assert done["last_sale"]["change"] == change > 0
    assert done["change_text"] == format_money(change)
    assert pay["cash_due"] % 5 == 0
    assert bool(pay["rounding_text"]) == (pay["cash_due"] != pay["total"])
    assert result["search_results"] > 0


@pytest.mark.parametrize("size", SIZES)
def test_receipts_reach_the_printer_simulator(runs: dict, size: str) -> None:
    receipts = runs[size]["receipts"]
    assert len(receipts) >= 4, "sale, refund, X and Z should all be printed"
    sale = receipts[0]
    for name in ("Brood 1", "Drop 2", "Soep 3"):
        assert name in sale
    assert "Wisselgeld" in sale and "[QR KASSA1|" in sale
    assert sum("RETOUR" in receipt for receipt in receipts) == 2  # cash and card refunds


@pytest.mark.parametrize("size", SIZES)
def test_refund_needed_the_manager(runs: dict, size: str) -> None:
    body = runs[size]["refund_body"]
    assert body["data"]["approved_by"] == "Bram"
    assert [(line["line_no"], line["quantity"]) for line in body["data"]["lines"]] == [(2, -1)]
    assert runs[size]["refund_by"] == ("qr" if size == "1280x800" else "number")


@pytest.mark.parametrize("size", SIZES)
def test_window_close_is_refused_in_the_kiosk(runs: dict, size: str) -> None:
    assert runs[size]["close_refused"] is True


@pytest.mark.parametrize("size", SIZES)
def test_systemd_hears_ready_and_the_watchdog(runs: dict, size: str) -> None:
    messages = runs[size]["systemd"]
    assert messages and messages[0].startswith("READY=1")
    assert sum(m == "WATCHDOG=1" for m in messages) >= 3, messages[:5]
    assert messages[-1] == "STOPPING=1"


@pytest.mark.parametrize("size", SIZES)
def test_device_states_reach_the_status_bar(runs: dict, size: str) -> None:
    result = runs[size]
    assert result["drawer_status"] == "Lade: te lang open"
    assert result["scanner_status"] == "Scanner: niet verbonden"
    assert result["printer_status"] == "Printer: papier op"
    paper_out = result["paper_out"]
    assert paper_out["receipt"].startswith("Bon NIET afgedrukt") and "papier" in paper_out["receipt"]
    assert paper_out["waiting"] == [result["split_sale_seq"]]  # kept for the reprint
    copy = result["entries"]["receipt_copy"]
    assert copy["ref_seq"] == result["split_sale_seq"]


@pytest.mark.parametrize("size", SIZES)
def test_loyalty_customer_offer_favourite_weight_and_split(runs: dict, size: str) -> None:
    result = runs[size]
    customer = result["customer"]
    assert "Eva de Vries" in customer["label"] and "Eva de Vries" in customer["message"]
    assert "aanbieding" in customer["detail"]
    assert result["weighed"] == 350
    assert result["recalled_customer"] == "c-eva"  # parking keeps the customer
    sale = next(s for s in result["sales"] if s["seq"] == result["split_sale_seq"])["data"]
    assert sale["customer_id"] == "c-eva"
    assert [(t["kind"], t["reference"]) for t in sale["tenders"]] == [("voucher", "4242"),
                                                                      ("card", "778899")]
    weighed = [line for line in sale["lines"] if line["weight_g"]]
    assert [(line["weight_g"], line["gross"]) for line in weighed] == [(350, 523)]  # 14,95/kg
    offer_line = next(line for line in sale["lines"] if line["line_no"] == 1)
    assert offer_line["discount_by"] == "offer:of-1" and offer_line["discount"] > 0
    assert result["entries"]["offer_redemption"]["data"]["offer_id"] == "of-1"
    assert result["entries"]["customer_favourite"]["data"]["customer_id"] == "c-eva"


@pytest.mark.parametrize("size", SIZES)
def test_card_refund_reason_keyboard_and_goods_received(runs: dict, size: str) -> None:
    result = runs[size]
    card = next(b for b in result["refund_bodies"] if b["data"]["tenders"][0]["kind"] == "card")
    assert card["ref_seq"] == result["split_sale_seq"]
    assert card["data"]["tenders"][0]["reference"] == "445566"
    assert card["data"]["approved_by"] == "Bram"
    cash_out = result["entries"]["cash_out"]["data"]
    assert (cash_out["reason"], cash_out["amount"]) == ("Koffie", 250)
    received = result["entries"]["goods_received"]["data"]
    assert [(line["name"], line["quantity"]) for line in received["lines"]] == [("Brood 1", 24)]
    assert received["approved_by"] == "Bram"
