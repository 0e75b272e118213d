"""One cashier's day driven through the real Kivy window (run as a child process per size).

Usage: python -m tests.ui.scenario WIDTHxHEIGHT OUT_DIR VAR_DIR [--qr]
Taps go through Kivy's input pipeline (UnitTestTouch at the widget's window position), codes
through the simulated scanner's own thread. Writes OUT_DIR/result-WxH.json and a PNG per
screen; the pytest side checks the result.
"""

from __future__ import annotations

import json
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

MIN_TARGET = 59.5
SETTLE_FRAMES = 3  # frames drawn after a tap before the next step looks at the screen
LOYALTY_PREFIX = "299"
LOYALTY_CARD = "2990000000017"
WEIGHED_PLU = "900"


def shop_data(till: Any) -> None:
    """A loyalty customer with an offer on product 1 (as head office's offers message brings
    them) and a product sold by weight."""
    import datetime as dt

    from contract.product_key import sku_of
    from firmware import offers
    from firmware.models import Meta, Product
    from firmware.sim import make_gtin

    def version(key: str) -> int:
        row = Meta.get_or_none(Meta.key == key)
        return int(row.value) if row else 0

    def set_version(key: str, value: int) -> None:
        Meta.insert(key=key, value=str(value)).on_conflict_replace().execute()

    today = dt.date.today()
    offers.apply_message(till.db, {"version": 1, "store": till.config.terminal.store,
        "customers": [{"id": "c-eva", "card": LOYALTY_CARD, "name": "Eva de Vries",
                       "language": "nl"}],
        "offers": [{"id": "of-1", "customer": "c-eva", "sku": sku_of(make_gtin(1), "1"),
                    "title": "20% op brood", "kind": "percent", "value": 20, "max_units": 1,
                    "uses": 1, "valid_from": (today - dt.timedelta(days=1)).isoformat(),
                    "valid_until": (today + dt.timedelta(days=1)).isoformat(), "redeemed": {}}]},
        version, set_version)
    Product.create(plu=WEIGHED_PLU, name="Kaas (per kg)", price_cents=1495, vat_code="low",
                   category="Zuivel", sold_by_weight=True, stock_tracked=False,
                   name_folded="kaas (per kg)")


class Driver:
    def __init__(self, app: Any, sims: Any, out: Path, tag: str) -> None:
        """`sims`: cli.wiring.Simulators, the simulators behind the till's peripherals."""
        self.app, self.sims, self.out, self.tag = app, sims, out, tag
        self.result: dict[str, Any] = {"size": tag, "screens": [], "small_targets": [],
                                       "checked": [], "findings": [], "steps": [], "error": None}
        self._wait: tuple[Callable[[], bool], float, str] | None = None
        self._sleep_until = 0.0
        self._tap_frame = 0
        self._steps: Iterator[Any] | None = None
        self.drawer_popup_ok = False  # a step that waits for the drawer-left-open popup
        self._shut_popup: Any = None

    # --- stepping ------------------------------------------------------------------------
    def start(self, steps: Iterator[Any]) -> None:
        from kivy.clock import Clock

        self._steps = steps
        Clock.schedule_interval(self._tick, 0.05)

    def _tick(self, _dt: float) -> bool | None:
        from kivy.clock import Clock

        now = time.monotonic()
        if now < self._sleep_until:
            return None
        if Clock.frames_displayed - self._tap_frame < SETTLE_FRAMES:
            return None  # on a busy machine a pause may pass before the tap's layout is drawn
        if not self.drawer_popup_ok and self._drawer_popup():
            return None  # the cashier shuts the drawer when told to; then the next tap
        if self._wait is not None:
            check, deadline, what = self._wait
            if not check():
                if now > deadline:
                    return self._fail(f"timed out waiting for {what}")
                return None
            self._wait = None
        try:
            step = next(self._steps)
        except StopIteration:
            self.result["finished"] = True
            self.app.stop()
            return False
        except Exception:
            return self._fail(traceback.format_exc())
        if isinstance(step, (int, float)):
            self._sleep_until = now + step
        elif isinstance(step, tuple):  # (check, what) or (check, what, seconds to wait)
            self._wait = (step[0], now + (step[2] if len(step) > 2 else 10.0), step[1])
        return None

    def _fail(self, text: str) -> bool:
        self.result["error"] = text
        self.shot("zz-failure", check=False)
        self.app.stop()
        return False

    def _drawer_popup(self) -> bool:
        """The drawer-left-open popup (a cash step opened the drawer and it stayed open
        longer than the alert time): the drawer is pushed shut, and the popup gone waited for."""
        popup = getattr(self.app, "drawer_dialog", None)
        if popup is not None:
            self._shut_popup = popup
            self.sims.drawer.push_closed()
            return True
        return self._shut_popup is not None and dialog() is self._shut_popup

    def step(self, name: str) -> None:
        self.result["steps"].append(name)

    # --- input ---------------------------------------------------------------------------
    def tap(self, widget: Any) -> None:
        from kivy.clock import Clock
        from kivy.tests.common import UnitTestTouch

        if widget.get_root_window() is None:
            raise RuntimeError(f"tap on {type(widget).__name__} {getattr(widget, 'text', '')!r}, "
                               "which is not on screen")
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self._tap_frame = Clock.frames_displayed

    def key(self, keypad: Any, key: str) -> None:
        self.tap(next(b for b in keypad.children if getattr(b, "key", None) == key))

    def type(self, keypad: Any, text: str) -> None:
        for char in text:
            self.key(keypad, char)

    # --- evidence ------------------------------------------------------------------------
    def shot(self, name: str, check: bool = True) -> None:
        from kivy.core.window import Window

        target = self.out / f"{self.tag}-{name}.png"
        made = Path(Window.screenshot(name=str(self.out / f"tmp-{self.tag}-{name}.png")))
        made.replace(target)
        self.result["screens"].append(target.name)
        if check:
            self.check_targets(name)
            self.check_screen(name)

    def check_screen(self, name: str) -> None:
        """Overlapping targets, captions that do not fit, targets under 9 mm (screen_check)."""
        from tests.ui.screen_check import check_screen

        self.result["checked"].append(name)
        self.result["findings"] += [f"{self.tag} {name}: {finding}" for finding in check_screen()]

    def check_targets(self, name: str) -> None:
        """Every visible, enabled button of the screen is at least 60 px both ways."""
        from kivy.core.window import Window
        from kivy.uix.behaviors import ButtonBehavior

        def visible(widget: Any) -> bool:
            node = widget
            while node is not None and node is not Window:
                if node.opacity == 0:
                    return False
                node = node.parent
            return True

        for widget in (w for top in Window.children for w in top.walk()):
            if not isinstance(widget, ButtonBehavior) or widget.disabled:
                continue
            if widget.width < 2 or widget.height < 2 or not visible(widget):
                continue
            if widget.width < MIN_TARGET or widget.height < MIN_TARGET:
                self.result["small_targets"].append(
                    [name, type(widget).__name__, getattr(widget, "text", ""),
                     round(widget.width), round(widget.height)])


def approve(d: Driver, what: str) -> Iterator[Any]:
    """The manager override dialog: wait for it, type the manager's PIN."""
    yield (lambda: isinstance(dialog(), OverrideDialogType()), f"the override dialog for {what}")
    yield 0.3
    override = dialog()
    d.type(override.children[0].children[1], "9999")
    d.key(override.children[0].children[1], "OK")
    yield (lambda: dialog() is None, f"the override dialog for {what} to close")


def OverrideDialogType() -> type:  # noqa: N802 - a lazily imported class
    from ui.dialogs import OverrideDialog

    return OverrideDialog


def drawn(canvas: Any) -> int:
    """The vertex instructions Kivy draws for a canvas (its before and after groups and nested
    groups included; Kivy draws a canvas at opacity 0 all the same)."""
    from kivy.graphics import InstructionGroup, VertexInstruction

    count = 0
    for instruction in canvas.children:
        if isinstance(instruction, InstructionGroup):
            count += drawn(instruction)
        elif isinstance(instruction, VertexInstruction):
            count += 1
    return count


def status_text(app: Any, item: str) -> str:
    return app.root.ids.status_bar.ids[item].text


def status_state(app: Any, device: str) -> str:
    return getattr(app.root.ids.status_bar, device)


def dialog() -> Any:
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    return next((w for w in Window.children if isinstance(w, ModalView)), None)


def scenario(d: Driver) -> Iterator[Any]:
    from firmware.models import JournalEntry
    from firmware.sim import make_gtin

    app, till, scanner = d.app, d.app.till, d.sims.scanner
    sm = app.sm
    yield (lambda: sm.current == "login", "the login screen")
    yield 0.3
    login = sm.get_screen("login")
    d.shot("01-login")
    d.type(login.ids.keypad, "1112")
    d.key(login.ids.keypad, "OK")
    yield (lambda: bool(login.message), "the wrong-PIN message")
    d.shot("02-login-wrong-pin")
    d.type(login.ids.keypad, "1111")
    d.key(login.ids.keypad, "OK")
    yield (lambda: sm.current == "sale", "the sale screen after login")
    d.step("login")
    sale = sm.get_screen("sale")
    yield 0.3
    d.shot("03-sale-empty")
    yield from paging(d)

    for n in (1, 2, 3):
        scanner.inject(make_gtin(n))
    yield (lambda: len(sale.ids.ticket.data) == 3, "three scanned lines on the ticket")
    d.step("scan3")
    yield 0.3
    d.shot("04-sale-three-items")
    d.result["status_bar"] = app.root.ids.status_bar.ids.st_cashier.text
    d.result["ticket_total"] = till.ticket.total

    beeps = app.beeper.played
    flash = app.root.ids.flash
    at_rest = {"flash": drawn(flash.canvas),  # the banner's text texture, none when hidden
               "training banner": int(app.root.ids.training_banner.texture is not None)}
    scanner.inject(make_gtin(99999))  # a valid GTIN that is not in the catalogue
    yield (lambda: flash.alpha > 0.3, "the red flash")
    d.shot("05-scan-rejected")
    d.result["reject"] = {"message": sale.message, "beeps": app.beeper.played - beeps,
                          "lines": len(till.ticket.active_lines)}
    flashing = drawn(flash.canvas)
    yield (lambda: flash.alpha == 0, "the flash to fade")
    d.result["hidden_drawn"] = {**at_rest, "flash while flashing": flashing,
                                "flash faded": drawn(flash.canvas)}

    d.tap(sale.ids.ticket.children[0].children[-1])  # select the first row
    yield 0.2
    d.tap(sale.ids.qty_plus)
    yield (lambda: till.ticket.active_lines[0].quantity == 2, "quantity 2 on the first line")
    d.tap(sale.ids.qty_minus)
    yield (lambda: till.ticket.active_lines[0].quantity == 1, "quantity back to 1")
    d.tap(sale.ids.tab_keypad)
    yield (lambda: sale.ids.modes.current == "keypad", "the keypad")
    yield 0.3
    d.shot("06-sale-keypad")
    d.tap(sale.ids.tab_search)
    keys = sale.ids.search_keys
    yield (lambda: keys.get_root_window() is not None and keys.children[0].y > keys.y - 1
           and keys.children[-1].top <= keys.top + 1 and keys.children[0].x > 1, "the letter keys")
    yield 0.3
    for letter in "KO":
        d.tap(next(b for b in sale.ids.search_keys.children if b.text == letter))
    yield 0.3
    d.shot("07-sale-search")
    d.result["search_results"] = len(sale.ids.results.children)
    d.tap(sale.ids.tab_products)
    yield 0.2

    d.tap(sale.ids.pay)
    yield (lambda: sm.current == "payment", "the payment screen")
    payment = sm.get_screen("payment")
    yield 0.3
    d.shot("08-payment")
    due = till.cash_due()
    given = ((due // 1000) + 1) * 1000
    d.result["payment"] = {"total": till.ticket.total, "cash_due": due, "given": given,
                           "rounding_text": payment.rounding_text}
    d.type(payment.ids.pay_keypad, str(given // 100))  # typed in euros
    d.drawer_popup_ok = True  # this drawer is left open on purpose (step 21)
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: sm.current == "done", "the done screen")
    done = sm.get_screen("done")
    d.result["done"] = {"change_text": done.change_text, "last_sale": dict(app.last_sale)}
    yield (lambda: app.print_state == "printed", "the receipt to print")
    yield 0.2
    d.shot("09-done-printed")
    d.step("paid")
    sale_seq = app.last_sale["seq"]
    drawer = d.sims.drawer
    yield (lambda: status_text(app, "st_drawer").endswith(app_text("open_too_long")),
           "the drawer-left-open alert on the status bar")
    d.shot("21-drawer-left-open")
    d.result["drawer_status"] = status_text(app, "st_drawer")
    d.result["drawer_popup"] = getattr(dialog(), "text", "")
    drawer.push_closed()
    d.drawer_popup_ok = False
    yield (lambda: status_state(app, "drawer") == "closed", "the drawer closed")
    scanner.unplug()
    yield (lambda: status_text(app, "st_scanner").endswith(app_text("disconnected")),
           "the unplugged scanner on the status bar")
    d.result["scanner_status"] = status_text(app, "st_scanner")
    scanner.replug()
    yield (lambda: status_state(app, "scanner") == "connected", "the scanner back")

    yield from worst_status(d, "32-status-worst")
    d.tap(done.ids.next)
    yield (lambda: sm.current == "sale", "the sale screen for the next customer")
    yield 0.3
    yield from customer_sale(d)
    d.tap(sale.ids.manager)
    yield (lambda: sm.current == "manager", "the manager screen")
    manager = sm.get_screen("manager")
    yield 0.3
    d.shot("10-manager")

    d.tap(manager.ids.refund)
    yield 0.3
    d.shot("11-refund-find")
    if d.result.get("use_qr"):
        preview = sorted((Path(app.till.config.var_dir) / "printer").glob("receipt-*.txt"))
        text = "\n".join(p.read_text() for p in preview)
        code = re.findall(r"\[QR (KASSA1\|[^\]]+)\]", text)[0]
        d.result["refund_by"] = "qr"
        scanner.inject(code)
    else:
        d.result["refund_by"] = "number"
        d.type(manager.ids.refund_keypad, str(sale_seq))
        d.key(manager.ids.refund_keypad, "OK")
    yield (lambda: manager.panel == "refund_lines", "the receipt's lines")
    yield 0.3
    d.shot("12-refund-lines")
    plus = next(w for w in manager.ids.refund_rows.walk() if getattr(w, "line_no", None) == 2)
    d.tap(plus)
    yield 0.1
    d.tap(manager.ids.do_refund)
    yield (lambda: dialog() is not None, "the manager override dialog")
    yield 0.3
    d.shot("13-override-dialog")
    override = dialog()
    d.type(override.ids.get("keypad") or override.children[0].children[1], "9999")
    d.key(override.children[0].children[1], "OK")
    yield (lambda: dialog() is None and manager.message != "", "the refund to complete")
    d.sims.drawer.push_closed()  # the cash went out of the drawer; it is shut again
    yield 0.3
    d.shot("14-refunded")
    d.step("refund")

    d.tap(manager.ids.x_report)
    yield (lambda: "X" in manager.report, "the X report")
    yield 0.3
    d.shot("15-x-report")

    d.tap(manager.ids.cash)
    yield 0.3
    d.shot("16-cash-in-out")
    yield from manager_extras(d, manager)

    d.tap(manager.ids.training)
    yield (lambda: dialog() is not None, "the override dialog for training")
    override = dialog()
    d.type(override.children[0].children[1], "9999")
    d.key(override.children[0].children[1], "OK")
    yield (lambda: till.training, "training mode on")
    yield 0.3
    d.tap(manager.ids.back)
    yield (lambda: sm.current == "sale", "the sale screen in training mode")
    yield 0.3
    d.shot("17-sale-training")
    yield from training_cash_sale(d, sale)
    d.tap(sale.ids.manager)
    yield (lambda: sm.current == "manager", "the manager screen again")
    manager = sm.get_screen("manager")  # a new one once the old was let go (ui.app DROP_WHEN_LEFT)
    yield 0.3
    d.tap(manager.ids.training)
    yield (lambda: dialog() is not None, "the override dialog for training off")
    override = dialog()
    d.type(override.children[0].children[1], "9999")
    d.key(override.children[0].children[1], "OK")
    yield (lambda: not till.training, "training mode off")
    yield 0.3

    d.tap(manager.ids.stock)  # the count opens over the goods-received panel, as at a shop
    yield (lambda: manager.ids.panels.current == "stock", "the stock panel before the count")
    yield 0.3
    d.tap(manager.ids.z_close)
    yield 0.3
    yield (lambda: len(manager.ids.count_rows.children) == len(
        till.config.cash.denominations_cents), "a button per coin and note")
    yield 0.3
    d.shot("18-cash-count")
    count = manager.ids.count_rows.children
    d.result["count_buttons"] = [b.text for b in reversed(count)]
    d.tap(next(b for b in count if b.cents == 2000))
    d.type(manager.ids.count_keypad, "3")
    d.key(manager.ids.count_keypad, "OK")  # three twenties, on to the tens
    d.type(manager.ids.count_keypad, "1")
    yield 0.3
    d.shot("18b-cash-count-typing")
    d.key(manager.ids.count_keypad, "OK")
    yield 0.2
    d.result["counted"] = {"total": manager.count_total, "counts": dict(manager.counts),
                           "chosen": manager.count_cents}
    d.tap(manager.ids.close_day)
    yield (lambda: dialog() is not None, "the override dialog for the Z close")
    override = dialog()
    d.type(override.children[0].children[1], "9999")
    d.key(override.children[0].children[1], "OK")
    yield (lambda: manager.message != "" and "Z" in manager.report, "the Z report")
    yield 0.3
    d.shot("19-z-report")
    d.step("z_close")

    from kivy.core.window import Window

    d.result["close_refused"] = bool(Window.dispatch("on_request_close"))
    d.tap(manager.ids.logout)
    yield (lambda: sm.current == "login", "the login screen after logout")
    yield 0.3
    english = next(w for w in sm.get_screen("login").walk() if getattr(w, "text", "") == "English")
    d.tap(english)
    yield (lambda: app.till.language == "en", "English")
    yield 0.3
    d.shot("20-login-english")
    yield from worst_status(d, "33-status-worst-english")
    rows = JournalEntry.select(JournalEntry.type, JournalEntry.body).order_by(JournalEntry.seq)
    d.result["journal"] = [r.type for r in rows]
    bodies = [(r.type, json.loads(r.body)) for r in rows]
    d.result["refund_body"] = next((b for t, b in bodies if t == "refund"), None)
    d.result["refund_bodies"] = [b for t, b in bodies if t == "refund"]
    d.result["sales"] = [b for t, b in bodies if t == "sale"]
    d.result["entries"] = {t: b for t, b in bodies if t in (
        "customer_favourite", "offer_redemption", "goods_received", "cash_out", "receipt_copy")}
    d.result["notified"] = list(app.notified[:3])
    d.result["receipts"] = [p.read_text() for p in sorted(
        (Path(app.till.config.var_dir) / "printer").glob("receipt-*.txt"),
        key=lambda p: int(p.stem.split("-")[1]))]


def training_cash_sale(d: Driver, sale: Any) -> Iterator[Any]:
    """A trainee's cash sale: the done screen says the drawer opened (training), the drawer
    got no pulse (firmware.kernel.open_drawer)."""
    from firmware.sim import make_gtin

    app, till, sm = d.app, d.app.till, d.app.sm
    pulses = len(d.sims.drawer.pulses)
    d.sims.scanner.inject(make_gtin(7))
    yield (lambda: len(sale.ids.ticket.data) == 1, "a scanned line in training mode")
    d.tap(sale.ids.pay)
    yield (lambda: sm.current == "payment", "the payment screen in training mode")
    payment = sm.get_screen("payment")
    yield 0.2
    d.type(payment.ids.pay_keypad, str(((till.cash_due() // 1000) + 1) * 1000))
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: sm.current == "done", "the done screen of the training sale")
    done = sm.get_screen("done")
    yield 0.3
    d.result["training_sale"] = {"message": done.message, "drawer": app.last_sale["drawer"],
                                 "pulses": len(d.sims.drawer.pulses) - pulses,
                                 "training": till.journal.get(app.last_sale["seq"]).body["training"]}
    d.tap(done.ids.next)
    yield (lambda: sm.current == "sale", "the sale screen after the training sale")
    yield 0.2


def paging(d: Driver) -> Iterator[Any]:
    """Every category and every product of the largest category reached by tapping the
    arrows; back to the favourites after."""
    sale, catalogue = d.app.sm.get_screen("sale"), d.app.till.catalogue
    bar, grid = sale.ids.categories, sale.ids.grid
    seen: list[list[str]] = []
    while True:
        seen.append([b.text for b in bar.shown()])
        if bar.next.disabled:
            break
        yield from turn(d, bar, 1, "the next page of categories")
        yield 0.3
        if bar.page == 1:
            d.shot("30-categories-page-2")
    biggest = max(catalogue.categories(), key=lambda c: len(catalogue.in_category(c)))
    d.result["paging"] = {"category_pages": seen, "where": bar.where.text,
                          "categories": [_category_text(c) for c in catalogue.categories()],
                          "biggest": biggest, "in_biggest": len(catalogue.in_category(biggest))}
    while all(b.category != biggest for b in bar.shown()):
        yield from turn(d, bar, -1, "the page with the largest category")
    d.tap(next(b for b in bar.shown() if b.category == biggest))
    yield (lambda: sale.category == biggest, "the largest category")
    products: list[list[str]] = []
    while True:
        yield 0.3
        products.append([b.text.split("\n")[0] for b in grid.shown()])
        if grid.page == 1:
            d.shot("31-products-page-2")
        if grid.next.disabled:
            break
        yield from turn(d, grid, 1, "the next page of products")
    d.result["paging"].update(product_pages=products, product_where=grid.where.text,
                              product_names=[p.name for p in catalogue.in_category(biggest)])
    while bar.page:
        yield from turn(d, bar, -1, "the previous page of categories")
    d.tap(bar.shown()[0])
    yield (lambda: sale.category == "*", "the favourites again")
    yield 0.3


def turn(d: Driver, pager: Any, step: int, what: str) -> Iterator[Any]:
    """A tap on a pager's arrow, and the page it turns to."""
    page = pager.page + step
    d.tap(pager.next if step > 0 else pager.prev)
    yield (lambda: pager.page == page, what)


def _category_text(category: str) -> str:
    return category or app_text("Other")


def worst_status(d: Driver, name: str) -> Iterator[Any]:
    """The status bar with every device in an alert, no uplink, a five-digit backlog and head
    office's config waiting for a restart: it still fits on one line (the screen check), shot
    as `name`; then the real state again."""
    import dataclasses

    from firmware.status import DeviceStatus

    runtime = d.app.runtime
    real = runtime.status

    def worst() -> Any:
        return dataclasses.replace(real(), link="local", backlog=99999,
                                   printer=DeviceStatus("paper_out"),
                                   drawer=DeviceStatus("open_too_long"),
                                   scanner=DeviceStatus("disconnected"),
                                   restart=("ui.width",))

    runtime.status = worst
    try:
        d.app.refresh_status()
        yield 0.3
        d.app.refresh_status()
        d.shot(name)
        d.result.setdefault("worst_status", []).append(
            [w.text for w in reversed(d.app.root.ids.status_bar.children)])
        yield from long_name(d, worst)
    finally:
        del runtime.status
    d.app.refresh_status()
    yield 0.2


def long_name(d: Driver, worst: Callable[[], Any]) -> Iterator[Any]:
    """A cashier's name too long for what is left of the bar: only the name gives way."""
    import dataclasses

    from tests.ui.screen_check import check_screen

    runtime = d.app.runtime
    runtime.status = lambda: dataclasses.replace(
        worst(), cashier="Maria-Josephina Wilhelmina Alexandra van den Broek-Hoogeveen"
                         " tot Oostervelde")  # too long even for the 1280x800 bar
    d.app.refresh_status()
    yield 0.3
    bar = d.app.root.ids.status_bar
    d.result.setdefault("long_name", []).append(
        [f for f in check_screen() if any(w.text in f for w in bar.children)])


def customer_sale(d: Driver) -> Iterator[Any]:
    """Loyalty card, offer, favourite, a weighed product, park/recall, voucher + card with the
    printer out of paper, and the reprint once paper is back."""
    from firmware.sim import make_gtin

    app, till, scanner = d.app, d.app.till, d.sims.scanner
    sm, sale = app.sm, app.sm.get_screen("sale")
    scanner.inject(LOYALTY_CARD)
    yield (lambda: sale.customer == "Eva de Vries", "the customer on the sale screen")
    scanner.inject(make_gtin(1))
    yield (lambda: len(sale.ids.ticket.data) == 1, "the offer product on the ticket")
    if sale.ids.ticket.selected_line != 1:  # a scanned line is selected already
        d.tap(sale.ids.ticket.children[0].children[-1])
    yield (lambda: sale.ids.ticket.selected_line == 1, "the line selected")
    d.tap(sale.ids.heart)
    yield (lambda: "Eva" in sale.message, "the favourite confirmation")
    yield 0.3
    d.shot("22-sale-customer-offer")
    d.result["customer"] = {"label": sale.ids.customer.text, "message": sale.message,
                            "detail": sale.ids.ticket.data[0]["detail"]}
    d.tap(sale.ids.tab_keypad)
    yield (lambda: sale.ids.modes.current == "keypad", "the keypad")
    yield 0.3
    d.type(sale.ids.sale_keypad, WEIGHED_PLU)
    d.key(sale.ids.sale_keypad, "OK")
    yield (lambda: dialog() is not None, "the weight dialog")
    yield 0.3
    d.type(dialog().ids.keypad, "350")
    yield 0.3
    d.shot("23-weight-entry")
    d.key(dialog().ids.keypad, "OK")
    yield (lambda: dialog() is None and len(sale.ids.ticket.data) == 2, "the weighed line")
    d.result["weighed"] = till.ticket.active_lines[-1].weight_g
    d.tap(sale.ids.park)
    yield (lambda: till.ticket.is_empty and not sale.customer, "the ticket parked")
    d.tap(sale.ids.recall)
    yield (lambda: len(sale.ids.ticket.data) == 2, "the parked ticket recalled")
    d.result["recalled_customer"] = till.ticket.customer_id
    yield 0.3
    d.shot("24-recalled")

    d.sims.printer.simulate("paper_out")
    yield (lambda: status_text(app, "st_printer").endswith(app_text("paper_out")),
           "paper out on the status bar")
    d.result["printer_status"] = status_text(app, "st_printer")
    d.tap(sale.ids.pay)
    yield (lambda: sm.current == "payment", "the payment screen")
    payment = sm.get_screen("payment")
    yield 0.3
    d.tap(payment.ids.tab_voucher)
    yield (lambda: payment.method == "voucher", "voucher chosen")
    yield 0.3
    d.type(payment.ids.pay_keypad, "5")  # € 5 voucher, typed in euros
    d.tap(payment.ids.reference)
    yield (lambda: payment.field == "reference", "the voucher code field")
    d.type(payment.ids.pay_keypad, "4242")
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: bool(payment.tenders), "the voucher taken")
    yield 0.3
    d.tap(payment.ids.tab_card)
    yield (lambda: payment.method == "card", "card chosen")
    yield 0.3
    d.tap(payment.ids.reference)
    d.type(payment.ids.pay_keypad, "778899")
    yield 0.3
    d.shot("25-payment-split")
    d.key(payment.ids.pay_keypad, "OK")
    yield (lambda: sm.current == "done", "the done screen after the split payment")
    done = sm.get_screen("done")
    yield (lambda: app.print_state.startswith("failed"), "the receipt failing on paper out")
    yield 0.3
    d.shot("26-done-paper-out")
    d.result["split_sale_seq"] = app.last_sale["seq"]
    d.result["paper_out"] = {"receipt": done.receipt_text, "waiting": sorted(till.print_queue.failed)}
    d.sims.printer.simulate("")
    yield (lambda: status_state(app, "printer") == "ready", "paper back")
    d.tap(done.ids.reprint)
    yield (lambda: done.message != "", "the copy printed")
    d.step("customer_sale")
    d.tap(done.ids.next)
    yield (lambda: sm.current == "sale", "the sale screen after the customer")
    yield 0.3


def manager_extras(d: Driver, manager: Any) -> Iterator[Any]:
    """Cash out with a typed reason, a refund to the card, goods received."""
    d.tap(manager.ids.kind_out)
    d.tap(manager.ids.reason_other)
    yield (lambda: dialog() is not None, "the reason keyboard")
    yield 0.3
    keyboard = dialog()
    for letter in "KOFFIE":
        d.tap(next(b for b in keyboard.ids.letters.children if b.key == letter))
    yield 0.3
    d.shot("27-reason-keyboard")
    d.tap(keyboard.ids.ok)
    yield (lambda: dialog() is None and manager.reason == "Koffie", "the typed reason")
    yield 0.2
    d.type(manager.ids.cash_keypad, "2,5")  # euros: € 2,50
    d.key(manager.ids.cash_keypad, "OK")
    yield from approve(d, "cash out")
    yield (lambda: "2,50" in manager.message, "the cash out booked")
    d.sims.drawer.push_closed()

    card_sale = d.result["split_sale_seq"]
    d.tap(manager.ids.refund)
    yield 0.2
    d.type(manager.ids.refund_keypad, str(card_sale))
    d.key(manager.ids.refund_keypad, "OK")
    yield (lambda: manager.panel == "refund_lines", "the split-paid receipt's lines")
    yield 0.3
    plus = next(w for w in manager.ids.refund_rows.walk() if getattr(w, "line_no", None) == 1)
    d.tap(plus)
    d.tap(manager.ids.do_card_refund)
    yield (lambda: dialog() is not None, "the card reference dialog")
    yield 0.3
    d.type(dialog().ids.keypad, "445566")
    yield 0.3
    d.shot("28-card-refund-reference")
    d.key(dialog().ids.keypad, "OK")
    yield from approve(d, "the card refund")
    yield (lambda: "445566" in manager.message, "the card refund done")

    d.tap(manager.ids.stock)
    yield (lambda: manager.ids.panels.current == "stock", "the stock panel")
    yield 0.3
    d.type(manager.ids.stock_keypad, "1")
    d.tap(manager.ids.stock_pick)
    yield (lambda: bool(manager.stock_product), "the product to book")
    d.type(manager.ids.stock_keypad, "24")
    d.key(manager.ids.stock_keypad, "OK")
    yield from approve(d, "goods received")
    yield (lambda: "24" in manager.message, "the goods booked")
    yield 0.3
    d.shot("29-goods-received")
    d.result["stock_after"] = manager.stock_product.get("stock")
    d.step("manager_extras")


def app_text(text: str) -> str:
    from ui.i18n import _

    return _(text)


def app_money(app: Any, cents: int) -> str:
    from ui.i18n import money

    return money(cents)


def launch(size: str, var: str, sections: dict[str, dict[str, Any]]) -> tuple[Any, Any]:
    """The till app on simulated hardware in a window of `size`, the demo shop's data loaded;
    `sections` changes config fields ({"drawer": {"open_alert_seconds": 1}}). (app, sims)"""
    import dataclasses

    from ui.kivy_setup import configure_kivy

    width, height = (int(v) for v in size.split("x"))
    configure_kivy(False, width, height, False)
    from cli import wiring
    from cli.till import StateRelay, build_app
    from contract.config import Config

    base = Config(var_dir=var)
    config = dataclasses.replace(base, **{
        section: dataclasses.replace(getattr(base, section), **fields)
        for section, fields in sections.items()})
    relay = StateRelay()  # wired as `kassa till --sim` is: the printer in its print process
    peripherals, sims = wiring.build_simulated(config, relay, printer_process=True)
    app = build_app(config, peripherals, relay, demo=True)
    shop_data(app.till)
    return app, sims


def run_scene(argv: list[str], prefix: str, sections: dict[str, dict[str, Any]],
              steps: Callable[[Any], Iterator[Any]], driver: type = Driver,
              setup: Callable[[Any, Any], None] | None = None) -> int:
    """A child process's whole run: argv is WIDTHxHEIGHT OUT_DIR VAR_DIR [flags]; launches the
    till, drives `steps(driver)` and writes OUT_DIR/{prefix}-WxH.json (the error, if the run
    itself failed)."""
    size, out, var = argv[0], Path(argv[1]), argv[2]
    out.mkdir(parents=True, exist_ok=True)
    result = out / f"{prefix}-{size}.json"
    try:
        app, sims = launch(size, var, sections)
        d = driver(app, sims, out, size)
        if setup is not None:
            setup(app, d)
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: d.start(steps(d)), 0.5)
        app.run()
        app.till.print_queue.wait_idle(5)
        result.write_text(json.dumps(d.result, indent=1, default=str))
        return 0 if d.result.get("finished") and not d.result["error"] else 1
    except Exception:
        result.write_text(json.dumps({"error": traceback.format_exc()}))
        raise


def main(argv: list[str]) -> int:
    def qr(_app: Any, d: Driver) -> None:
        d.result["use_qr"] = "--qr" in argv

    return run_scene(argv, "result", {"scanner": {"loyalty_prefix": LOYALTY_PREFIX},
                                      "drawer": {"open_alert_seconds": 1}}, scenario, setup=qr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
