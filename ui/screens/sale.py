"""The sale screen: the open ticket (always visible), products, keypad, search, park/recall."""

from __future__ import annotations

import json
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from contract.gtin import BarcodeError
from contract.money import div_round_half_up
from firmware.errors import NeedsWeight, TillError
from firmware.ticket import Line, Ticket
from ui import signup_dialog as signup_ui
from ui import widgets as w
from ui.dialogs import ConfirmDialog, NumberDialog
from ui.errors import error_text
from ui.i18n import _, decimal_sign, euros_to_cents, money, ngettext
from ui.metrics import S
from ui.screens.base import KassaScreen

SEARCH_KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SEARCH_LIMIT = 30
RESULT_HEIGHT = 60  # a search result button, before scaling


def count_text(lines: int, pieces: int) -> str:
    """'1 line · 3 items', singular and plural through gettext's ngettext."""
    return (ngettext("{n} line", "{n} lines", lines).format(n=lines) + " · "
            + ngettext("{n} item", "{n} items", pieces).format(n=pieces))


def parked_text(row) -> str:  # noqa: ANN001 - firmware.models.ParkedTicket
    """A parked ticket as the recall list shows it: number, time, cashier, items and total."""
    ticket = Ticket.from_dict(json.loads(row.payload))
    pieces = sum(line.quantity for line in ticket.active_lines)
    return (f"#{row.id}  {row.created[11:16]}  {row.cashier}  "
            + ngettext("{n} item", "{n} items", pieces).format(n=pieces) + f"  {money(ticket.total)}")


def promotion_names(ticket: Ticket) -> dict[int, str]:
    """line_no -> the names of the promotions the line shares in, as the receipt prints them."""
    names: dict[int, list[str]] = {}
    for promotion in ticket.promotions:
        for share in promotion["lines"]:
            names.setdefault(share["line_no"], []).append(promotion["name"])
    return {line_no: ", ".join(found) for line_no, found in names.items()}


def line_row(line: Line, promotion: str = "") -> dict:
    if line.weight_g is not None:
        kilos = f"{line.weight_g // 1000}{decimal_sign()}{line.weight_g % 1000:03d}"  # 1,234
        detail = f"{kilos} kg × {money(line.unit_price)}/kg"
    elif line.embedded_price is not None:
        detail = f"{line.quantity} × {money(line.embedded_price)}"
    else:
        detail = f"{line.quantity} × {money(line.unit_price)}"
    if line.discount:
        offer = (line.discount_by or "").startswith("offer:")
        # the percentage, as the cashier gave it (the amount column shows what is left to pay)
        percent = div_round_half_up(line.discount * 100, line.amount) if line.amount else 0
        detail += " · " + (_("offer") if offer else _("discount")) + f" -{percent}%"
    if line.original_unit_price is not None:
        detail += " · " + _("price changed")
    if line.promo_discount:
        detail += f" · {promotion or _('promotion')} -{money(line.promo_discount)}"
    return {"line_no": line.line_no, "name": line.name, "detail": detail,
            "amount": money(line.gross), "selected": False}


class SaleKeypad(BoxLayout):
    """The keypad mode: PLU or barcode entry, × quantity, line quantity, discount, price."""

    screen = ObjectProperty(None)


class SaleSearch(BoxLayout):
    """The search mode: products or customers by name, with an on-screen letter keyboard."""

    screen = ObjectProperty(None)


MODES: dict[str, type[BoxLayout]] = {"keypad": SaleKeypad, "search": SaleSearch}
_modes_loaded: list[bool] = []  # sale_modes.kv's rules are loaded once per process


class SaleScreen(KassaScreen):
    mode = StringProperty("products")  # products | keypad | search
    total_text = StringProperty("")
    count_text = StringProperty("")
    entry = StringProperty("")
    multiplier = NumericProperty(1)
    query = StringProperty("")
    category = StringProperty("")
    search_for = StringProperty("products")  # products | customers
    customer = StringProperty("")  # the attached customer's name
    _promoted = False  # the rows shown carry promotions: the next scan redraws them all

    def on_kv_post(self, base_widget) -> None:  # noqa: ANN001
        self.build_categories()
        self.show_category("*")
        self.refresh_ticket()  # the search keys are built when search is first opened

    def on_pre_enter(self, *_args) -> None:
        self.refresh_ticket()

    def on_mode(self, _screen, mode: str) -> None:  # noqa: ANN001
        if mode in MODES and not self.ids[f"{mode}_mode"].children:
            self.build_mode(mode)
        if mode == "search" and not self.ids.search_keys.children:
            self.build_search_keys()  # 28 buttons most tickets never need: memory and start-up
        self.ids.modes.current = mode

    def build_mode(self, mode: str) -> None:
        """The keypad or search mode's widgets, on first use: most tickets are only scanned,
        and their buttons and labels would cost memory all day. Their ids join the screen's."""
        if not _modes_loaded:
            Builder.load_file(str(Path(__file__).with_name("sale_modes.kv")))
            _modes_loaded.append(True)
        part = MODES[mode](screen=self)
        self.ids[f"{mode}_mode"].add_widget(part)
        self.ids.update(part.ids)

    # --- the ticket ----------------------------------------------------------------------
    def refresh_ticket(self, scroll: bool = False) -> None:
        self.multiplier = self.app.runtime.next_quantity  # a scan used it up
        ticket = self.till.ticket
        lines = ticket.active_lines
        view = self.ids.ticket
        data = view.data
        added = scroll and len(lines) > len(data)
        promotions = promotion_names(ticket)
        promoted, self._promoted = self._promoted, bool(promotions)
        if (scroll and ticket.customer_id is None and not promoted and not promotions
                and len(lines) == len(data) + 1
                and (not data or data[-1]["line_no"] == lines[-2].line_no)):
            view.add_row(line_row(lines[-1]))  # a scan: one new row, nothing else rebuilt
        else:
            if view.selected_line and not any(line.line_no == view.selected_line for line in lines):
                view.selected_line = 0
            view.show([line_row(line, promotions.get(line.line_no, "")) for line in lines],
                      scroll_to_end=scroll)
        if added:  # the product, not the deposit line that follows it
            self.select_added(next((x for x in reversed(lines) if not x.deposit_for), lines[-1]))
        elif len(lines) * view.row_height <= view.height:
            view.scroll_y = 1  # a new or short ticket starts at the top, not at the old scroll
        self.total_text = money(ticket.total)
        pieces = sum(line.quantity for line in lines  # ~100 additions: microseconds
                     if line.deposit_for is None)  # a deposit line is no item
        self.count_text = count_text(len(lines), pieces)
        if ticket.customer_id is None:
            self.customer = ""

    def select_added(self, line: Line) -> None:
        """A scanned or tapped item: its line is selected (so + and − act on it), shown, and
        said in the info colour."""
        view = self.ids.ticket
        if view.selected_line != line.line_no:
            view.select(line.line_no)
        view.scroll_y = 0 if len(view.data) * view.row_height > view.height else 1
        self.inform(_("Added") + f": {line.name}  {money(line.gross)}")

    def selected(self) -> int | None:
        line_no = self.ids.ticket.selected_line
        if not line_no:
            self.message = _("Tap a line on the ticket first")
            return None
        return line_no

    def change_quantity(self, delta: int) -> None:
        line_no = self.selected()
        if line_no is None:
            return
        quantity = self.till.ticket.line(line_no).quantity + delta
        if quantity < 1:
            self.remove_line()
            return
        self.app.attempt(self.till.set_quantity, line_no=line_no, quantity=quantity)

    def remove_line(self) -> None:
        line_no = self.selected()
        if line_no is not None:
            self.app.attempt(self.till.remove_line, line_no=line_no)

    def void_ticket(self) -> ConfirmDialog | None:
        """The whole open ticket goes: only after the cashier confirms, seeing what goes."""
        ticket = self.till.ticket
        if ticket.is_empty:
            self.message = _("The ticket is empty")
            return None
        lines = ticket.active_lines
        question = (_("Void the whole ticket?") + "\n" +
                    count_text(len(lines), sum(line.quantity for line in lines)) +
                    f"  {money(ticket.total)}")

        def void() -> None:
            self.app.attempt(self.till.void_open_ticket,
                             on_done=lambda _e: self.inform(_("Ticket voided")))

        dialog = ConfirmDialog(question, _("Void ticket"), void, no_text=_("No, keep it"))
        dialog.open()
        return dialog

    def favourite(self) -> None:
        """The heart on a line: the product becomes the attached customer's favourite."""
        line_no = self.selected()
        if line_no is None:
            return
        name = self.till.ticket.line(line_no).name
        self.app.attempt(self.till.add_favourite, line_no=line_no, on_done=lambda _e: self.inform(
            _("Favourite of") + f" {self.customer}: {name}"))

    # --- the customer --------------------------------------------------------------------
    def show_customer(self, data: dict) -> None:
        """The till's 'customer' event: a card was scanned or a customer chosen or removed."""
        self.customer = data.get("name") or ""
        if self.customer:
            self.inform(_("Customer") + f": {self.customer}")
        if self.mode == "search" and self.search_for == "customers":
            self.search_key("")

    def attach_customer(self, customer) -> None:  # noqa: ANN001 - firmware.customers.CustomerInfo
        self.app.attempt(self.till.attach_customer, customer=customer,
                         on_done=lambda _c: setattr(self, "mode", "products"))

    def detach_customer(self) -> None:
        self.app.attempt(self.till.detach_customer)

    # --- scanning and adding -------------------------------------------------------------
    # A scanned code goes from the scanner through the till's runtime to the till service
    # (firmware/runtime.py); this screen sees the result as a 'ticket' or 'customer' event,
    # or a refusal here.
    def scan_refused(self, code: str, error: TillError) -> None:
        """The till refused a scanned code: goods sold by weight get the weight dialog, any
        other refusal is said with the code."""
        self.multiplier = self.app.runtime.next_quantity
        product = self._weighed_product(code) if isinstance(error, NeedsWeight) else None
        if product is not None:
            self.ask_weight(product)
            return
        self.app.scan_error(code, error)

    def _weighed_product(self, code: str):  # noqa: ANN202
        """The product behind a NeedsWeight refusal, so the cashier can type the weight."""
        try:
            return self.till.catalogue.resolve(code).product
        except (TillError, BarcodeError):  # the catalogue changed since the scan
            return None

    def _take_multiplier(self) -> int:
        """The × quantity for an item added by hand; used up like a scan uses it."""
        self.multiplier = 1
        return self.app.runtime.take_quantity()

    def add_product(self, product_id: int) -> None:
        quantity = self._take_multiplier()
        product = self.till.catalogue.by_id(product_id)
        if product is not None and product.sold_by_weight:
            self.ask_weight(product)
            return
        self.app.attempt(self.till.add_product, product_id=product_id, quantity=quantity)

    def ask_weight(self, product) -> NumberDialog:  # noqa: ANN001 - firmware ProductInfo
        """Goods sold by weight without a scale label: the weight in grams on the keypad."""
        def add(text: str) -> str | None:
            grams = int(text)
            if not 1 <= grams <= 99_999:
                return _("The weight must be between 1 and 99999 grams")
            try:
                self.till.add_product(product.id, weight_g=grams)
            except TillError as exc:
                return error_text(exc)
            self.message = ""
            return None

        dialog = NumberDialog(f"{product.name}: " + _("weight in grams") +
                              f"  ({money(product.price_cents)}/kg)", "g", add, max_digits=5)
        dialog.open()
        return dialog

    # --- the keypad ----------------------------------------------------------------------
    def key(self, key: str) -> None:
        if key == "C":
            self.entry = ""
            self.app.runtime.next_quantity = self.multiplier = 1
        elif key == "OK":
            self.add_plu()
        elif len(self.entry) < 13:
            self.entry += key

    def _take_number(self) -> int | None:
        text, self.entry = self.entry, ""
        if not text:
            self.message = _("Type a number first")
            return None
        return int(text)

    def add_plu(self) -> None:
        """OK on the keypad: a short number is a PLU, a long one a barcode typed in."""
        text, self.entry = self.entry, ""
        if not text:
            self.message = _("Type a PLU or barcode first")
            return
        if len(text) > 6:
            self.app.runtime.scan(text)  # a barcode typed in: the same path as a scan
            return
        quantity = self._take_multiplier()
        product = self.till.catalogue.by_plu(text)
        if product is not None and product.sold_by_weight:
            self.ask_weight(product)
            return
        try:
            self.till.add_plu(text, quantity)
        except TillError as exc:
            self.app.reject(error_text(exc))

    def set_multiplier(self) -> None:
        number = self._take_number()
        if number is not None:
            if not 1 <= number <= 9999:
                self.message = _("Quantity must be between 1 and 9999")
                return
            self.app.runtime.next_quantity = self.multiplier = number

    def set_line_quantity(self) -> None:
        line_no = self.selected()
        number = self._take_number() if line_no else None
        if number is not None:
            self.app.attempt(self.till.set_quantity, line_no=line_no, quantity=number)

    def discount_line(self) -> None:
        line_no = self.selected()
        number = self._take_number() if line_no else None
        if number is not None:
            self.app.attempt(self.till.discount_line, line_no=line_no, percent=number)

    def override_price(self) -> NumberDialog | None:
        """The new price in euros with a decimal key (1-,-9-9 is € 1,99)."""
        line_no = self.selected()
        if line_no is None:
            return None
        line = self.till.ticket.line(line_no)

        def take(text: str) -> str | None:
            cents = euros_to_cents(text)
            if not cents:
                return _("Type a price above zero")
            self.app.attempt(self.till.override_price, line_no=line_no, unit_price=cents)
            return None

        dialog = NumberDialog(f"{line.name}: " + _("new price") + f"  ({money(line.unit_price)})",
                              "€", take, euros=True)
        dialog.open()
        return dialog

    # --- products ------------------------------------------------------------------------
    def build_categories(self) -> None:
        names = [("*", _("Favourites"))] + [(c, c or _("Other")) for c in self.till.catalogue.categories()]
        self.ids.categories.set_items(names, self._category_button)

    def _category_button(self, item: tuple[str, str]) -> w.TileButton:
        key, label = item
        button = w.TileButton(text=label, font_size=S(16), tone=self._category_tone(key))
        button.category = key
        button.bind(on_release=lambda _b: self.show_category(key))
        return button

    def _category_tone(self, key: str) -> tuple:
        return w.BLUE if key == self.category else w.GREY

    def show_category(self, category: str) -> None:
        self.category = category
        for button in self.ids.categories.made.values():
            button.tone = self._category_tone(button.category)
        products = (self.till.catalogue.favourites() if category == "*"
                    else self.till.catalogue.in_category(category))
        self.ids.grid.set_items(products, self._product_button)

    def _product_button(self, product) -> w.TileButton:  # noqa: ANN001 - a catalogue ProductInfo
        button = w.TileButton(text=f"{product.name}\n{money(product.price_cents)}", font_size=S(16),
                             tone=(0.20, 0.24, 0.30, 1))
        button.bind(on_release=lambda _b, pid=product.id: self.add_product(pid))
        return button

    def _fill(self, grid, products) -> None:  # noqa: ANN001
        grid.clear_widgets()
        for product in products:
            button = self._product_button(product)
            button.size_hint_y, button.height = None, S(RESULT_HEIGHT)
            grid.add_widget(button)

    # --- search --------------------------------------------------------------------------
    def build_search_keys(self) -> None:
        keys = self.ids.search_keys
        for letter in [*SEARCH_KEYS, " ", "⌫"]:
            button = w.BigButton(text=letter if letter != " " else "␣", font_size=S(20),
                                 font_name="DejaVuSans")  # Roboto has no ␣ or ⌫
            button.bind(on_release=lambda _b, k=letter: self.search_key(k))
            keys.add_widget(button)

    def search_key(self, key: str) -> None:
        self.query = self.query[:-1] if key == "⌫" else (self.query + key)[:30]
        results = self.ids.results
        if self.search_for == "customers":
            self._fill_customers(results)
        elif len(self.query.strip()) >= 2:
            found = self.till.catalogue.search(self.query, limit=SEARCH_LIMIT + 1)
            self._fill(results, found[:SEARCH_LIMIT])
            shown = len(found[:SEARCH_LIMIT])
            text = ngettext("{n} product found", "{n} products found", shown).format(
                n=f"{shown}+" if len(found) > SEARCH_LIMIT else shown)
            if shown > self.visible_results():  # say there are more below the fold
                text += " · " + _("scroll for more")
            self.inform(text)
        else:
            results.clear_widgets()

    def visible_results(self) -> int:
        """How many results the search grid shows in full without scrolling, at this size."""
        grid = self.ids.results
        gap = grid.spacing[1]
        return grid.cols * int((grid.parent.height + gap) // (S(RESULT_HEIGHT) + gap))

    def toggle_search(self) -> None:
        self.search_for = "customers" if self.search_for == "products" else "products"
        self.query = ""
        self.search_key("")

    def _fill_customers(self, grid) -> None:  # noqa: ANN001
        grid.clear_widgets()
        signup = w.BigButton(text=_("Sign up a customer"), tone=w.GREEN, size_hint_y=None,
                             height=S(70), font_size=S(16))
        signup.bind(on_release=lambda _b: signup_ui.ask(self.app))
        self.signup_button = signup
        grid.add_widget(signup)
        if self.customer:
            detach = w.BigButton(text=_("Remove customer") + f"\n{self.customer}", tone=w.ORANGE,
                                 size_hint_y=None, height=S(70), font_size=S(16))
            detach.bind(on_release=lambda _b: self.detach_customer())
            grid.add_widget(detach)
        found = self.till.search_customers(self.query) if len(self.query.strip()) >= 2 else []
        for customer in found[:11]:
            button = w.BigButton(text=f"{customer.name}\n…{customer.card[-6:]}", tone=w.BLUE,
                                 size_hint_y=None, height=S(70), font_size=S(16))
            button.bind(on_release=lambda _b, c=customer: self.attach_customer(c))
            grid.add_widget(button)

    # --- park and recall -----------------------------------------------------------------
    def park(self) -> None:
        self.app.attempt(self.till.park, on_done=lambda pid: self.inform(
            _("Ticket parked") + f" (#{pid})"))

    def recall(self) -> None:
        parked = self.till.parked()
        if not parked:
            self.message = _("There are no parked tickets")
            return
        if len(parked) == 1:
            self.app.attempt(self.till.recall, parked_id=parked[0].id)
            return
        RecallDialog(self, parked).open()

    def pay(self) -> None:
        if self.till.ticket.is_empty:
            self.message = _("The ticket is empty")
            return
        self.app.go("payment")


class RecallDialog(ModalView):
    """The parked tickets, oldest first; tap one to bring it back."""

    def __init__(self, screen: SaleScreen, parked: list, **kwargs) -> None:  # noqa: ANN001
        super().__init__(size_hint=(0.8, 0.85), **kwargs)
        box = BoxLayout(orientation="vertical", spacing=S(6), padding=S(8))
        for row in parked[-5:]:
            button = w.BigButton(text=parked_text(row), tone=w.BLUE)
            button.bind(on_release=lambda _b, pid=row.id: self.choose(screen, pid))
            box.add_widget(button)
        cancel = w.BigButton(text=_("Cancel"))
        cancel.bind(on_release=lambda _b: self.dismiss())
        box.add_widget(cancel)
        self.add_widget(box)

    def choose(self, screen: SaleScreen, parked_id: int) -> None:
        self.dismiss()
        screen.app.attempt(screen.till.recall, parked_id=parked_id)
