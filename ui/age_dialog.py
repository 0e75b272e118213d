"""The age check dialog: "Klant is 18 of ouder?" with the items that wait for it.

Opened on the till's `age_check` event (firmware/age_check.py), after the scanned item is
already on the ticket. The two answers are big buttons far apart, laid out as every
confirmation of the till (ui/dialogs.py ConfirmDialog): refuse on the left, where the
cashier's finger was, confirm on the right in green. The UI only passes the answer on to the
till service; the rule (once per ticket, asked again for a higher age) is the firmware's.
"""

from __future__ import annotations

from collections.abc import Callable

from ui import widgets as w
from ui.dialogs import ConfirmDialog
from ui.i18n import _

MAX_NAMES = 3  # item names shown under the question; more are "…"


def question(age: int, names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES]) + (", …" if len(names) > MAX_NAMES else "")
    return _("Customer is {age} or older?").format(age=age) + (f"\n{shown}" if shown else "")


class AgeCheckDialog(ConfirmDialog):
    """Asks the cashier to confirm the customer's age; answers go to on_confirm / on_refuse."""

    def __init__(self, age: int, names: list[str], on_confirm: Callable[[], None],
                 on_refuse: Callable[[], None], **kwargs) -> None:
        super().__init__(question(age, names), _("Yes, confirm"), on_confirm,
                         no_text=_("No, refuse"), on_no=on_refuse, **kwargs)
        self.age = age
        self.ids.yes.tone = w.GREEN
        self.ids.no.tone = w.RED
        self.ids.question.font_size = self.ids.question.font_size * 1.15

    def ask_again(self, age: int, names: list[str]) -> None:
        """A higher age was asked for while the dialog was open: the question follows it."""
        self.age = age
        self.text = question(age, names)


def ask(app, age: int, names: list[str]) -> AgeCheckDialog:  # noqa: ANN001 - ui.app.KassaApp
    """The till's age_check event: opens the dialog (or updates the open one); the answer goes
    to the till service, and the sale screen says what was done."""
    dialog = getattr(app, "age_dialog", None)
    if dialog is not None and dialog.get_parent_window() is not None:
        dialog.ask_again(age, names)
        return dialog

    def answered(text: str) -> None:
        if app.sm is not None and app.sm.has_screen("sale"):
            app.sm.get_screen("sale").inform(text)

    def confirm() -> None:
        app.age_dialog = None
        app.attempt(app.till.confirm_age, on_done=lambda _age: answered(_("Age confirmed")))

    def refuse() -> None:
        app.age_dialog = None
        app.attempt(app.till.refuse_age, on_done=lambda _lines: answered(_("Refused and removed")))

    app.age_dialog = AgeCheckDialog(age, names, confirm, refuse)
    app.age_dialog.open()
    return app.age_dialog
