"""Modal dialogs: the manager override (PIN for one action), numbers, text, a confirmation
and a plain message.

While a dialog is open nothing that takes touches moves: every message has a line of its own
with a fixed height (MessageLine), empty or not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import ListProperty, StringProperty
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView

from firmware.errors import TillError
from firmware.permissions import Action, Approval
from ui.errors import ACTION_TEXT
from ui.i18n import _, decimal_sign, type_euros
from ui.metrics import S
from ui.pin_entry import PinEntry

TEXT_KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -"
ERROR_TONE = (0.75, 0.12, 0.12, 1)
INFO_TONE = (0.15, 0.35, 0.65, 1)
_loaded: list[bool] = []


def load_rules() -> None:
    """The dialogs' kv rules (dialogs.kv), loaded when the first dialog is built, once per
    process: a till's start shows none, and parsing them took ~5 ms of its first frame (the
    login screen's MessageLine rule is in widgets.kv)."""
    if not _loaded:
        Builder.load_file(str(Path(__file__).with_name("dialogs.kv")))
        _loaded.append(True)


class MessageLine(Label):
    """A message with a place of its own: the same height empty or full, wrapped to fit."""

    tone = ListProperty(ERROR_TONE)


class OverrideDialog(PinEntry, ModalView):
    """Asks for a manager PIN for exactly one action, then hands the Approval back."""

    title = StringProperty("")
    detail = StringProperty("")
    pin_mask = StringProperty("")
    error = StringProperty("")

    def __init__(self, approve: Callable[[str, Action], Approval], action: Action,
                 on_approved: Callable[[Approval], None], *, detail: str = "", **kwargs) -> None:
        load_rules()
        super().__init__(auto_dismiss=False, **kwargs)
        self.detail = detail
        self.approve, self.action, self.on_approved = approve, action, on_approved
        self.pin = ""
        self.title = _("Manager PIN needed") + ": " + _(ACTION_TEXT.get(action, action.value))
        self.bind(on_dismiss=lambda *_a: self.stop_countdown())

    def show_feedback(self, text: str) -> None:
        self.error = text

    def submit(self) -> None:
        try:
            approval = self.approve(self.pin, self.action)
        except TillError as exc:
            self.refused(exc)
            return
        self.dismiss()
        self.on_approved(approval)


class NumberDialog(ModalView):
    """A number typed on the big keypad (grams, units, a card terminal's reference), or with
    `euros` an amount in euros with a decimal key; on_ok gets the text as typed."""

    title = StringProperty("")
    unit = StringProperty("")
    value = StringProperty("")
    error = StringProperty("")

    def __init__(self, title: str, unit: str, on_ok: Callable[[str], str | None], *,
                 max_digits: int = 7, euros: bool = False, **kwargs) -> None:
        load_rules()
        super().__init__(auto_dismiss=False, **kwargs)
        self.title, self.unit, self.on_ok, self.max_digits = title, unit, on_ok, max_digits
        self.euros = euros
        self.ids.keypad.decimal_text = decimal_sign()
        self.ids.keypad.decimal = euros

    def key(self, key: str) -> None:
        if key == "C":
            self.value = ""
        elif key == "OK":
            self.submit()
        elif self.euros:
            self.value = type_euros(self.value, key)
        elif key.isdigit() and len(self.value) < self.max_digits:
            self.value += key
        if key != "OK":
            self.error = ""

    def submit(self) -> None:
        """on_ok returns an error text to stay open with, or None when done."""
        if not self.value:
            self.error = _("Type a number first")
            return
        error = self.on_ok(self.value)
        if error:
            self.error, self.value = error, ""
            return
        self.dismiss()


class TextDialog(ModalView):
    """Free text on an on-screen keyboard (the kiosk has no physical one), e.g. a reason."""

    title = StringProperty("")
    value = StringProperty("")
    error = StringProperty("")

    def __init__(self, title: str, on_ok: Callable[[str], str | None], *, max_length: int = 60,
                 **kwargs) -> None:
        load_rules()
        super().__init__(auto_dismiss=False, **kwargs)
        self.title, self.on_ok, self.max_length = title, on_ok, max_length

    def on_kv_post(self, base_widget) -> None:  # noqa: ANN001
        from ui.widgets import BigButton

        for key in [*TEXT_KEYS, "⌫"]:
            button = BigButton(text=key if key != " " else "␣", font_size=S(20),
                               font_name="DejaVuSans")  # Roboto has no ␣ or ⌫
            button.key = key
            button.bind(on_release=lambda b: self.key(b.key))
            self.ids.letters.add_widget(button)

    def key(self, key: str) -> None:
        self.error = ""
        if key == "⌫":
            self.value = self.value[:-1]
        elif len(self.value) < self.max_length:
            self.value += key.lower() if self.value else key  # a sentence: capital first

    def submit(self) -> None:
        text = self.value.strip()
        if not text:
            self.error = _("Type a text first")
            return
        error = self.on_ok(text)
        if error:
            self.error = error
            return
        self.dismiss()


class ConfirmDialog(ModalView):
    """A question before something that cannot be taken back (void a ticket, take a part
    payment): the answer buttons sit far apart, the safe one where the cashier's finger was."""

    text = StringProperty("")
    yes_text = StringProperty("")
    no_text = StringProperty("")

    def __init__(self, text: str, yes_text: str, on_yes: Callable[[], None], *,
                 no_text: str = "", on_no: Callable[[], None] | None = None, **kwargs) -> None:
        load_rules()
        super().__init__(auto_dismiss=False, **kwargs)
        self.text, self.yes_text, self.on_yes, self.on_no = text, yes_text, on_yes, on_no
        self.no_text = no_text or _("No, go back")

    def answer(self, yes: bool) -> None:
        self.dismiss()
        if yes:
            self.on_yes()
        elif self.on_no is not None:
            self.on_no()


class MessageDialog(ModalView):
    """A message the cashier must acknowledge (used for faults that need attention)."""

    text = StringProperty("")

    def __init__(self, text: str, **kwargs) -> None:
        load_rules()
        super().__init__(**kwargs)
        self.text = text
