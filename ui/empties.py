"""Returned empties (leeggoed) from the manager screen: the deposit type, how many, the
manager's PIN; the till service adds the negative deposit line (firmware/deposit.py) and the
sale screen shows it. The rules (a manager, never below the ticket's total) are the till's."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from ui import widgets as w
from ui.dialogs import NumberDialog
from ui.i18n import _, money
from ui.metrics import S

MAX_SHOWN = 4  # deposit types offered at once (the Dutch ones are two)


def ask(app) -> ModalView | None:  # noqa: ANN001 - ui.app.KassaApp
    """Starts the return: a choice of deposit type when there are several, then the count."""
    types = app.till.deposit_types()
    if not types:
        app.show_error(_("No product carries a deposit"))
        return None
    if len(types) == 1:
        return ask_count(app, *types[0])
    dialog = ModalView(size_hint=(0.8, 0.85), auto_dismiss=False)
    box = BoxLayout(orientation="vertical", spacing=S(6), padding=S(8))
    for code, cents in types[:MAX_SHOWN]:
        button = w.BigButton(text=f"{code}  {money(cents)}", tone=w.BLUE)
        button.bind(on_release=lambda _b, c=code, a=cents: (dialog.dismiss(), ask_count(app, c, a)))
        box.add_widget(button)
    cancel = w.BigButton(text=_("Cancel"))
    cancel.bind(on_release=lambda _b: dialog.dismiss())
    box.add_widget(cancel)
    dialog.add_widget(box)
    dialog.open()
    return dialog


def ask_count(app, code: str, cents: int) -> NumberDialog:  # noqa: ANN001 - KassaApp
    """How many empties of one deposit type; the manager's PIN is asked by the attempt."""
    def take(text: str) -> str | None:
        count = int(text)
        if count < 1:
            return _("Type a number first")
        app.go("sale")  # refusals (too many, a type gone) are said there, by their type
        app.attempt(app.till.return_empties, deposit_code=code, quantity=count,
                    on_done=lambda line: app.sm.get_screen("sale").inform(
                        _("Empties taken back") + f": {money(-line.amount)}"),
                    detail=f"{count} x {money(cents)}")
        return None

    dialog = NumberDialog(_("Empties") + f": {code}  ({money(cents)})", "x", take, max_digits=3)
    dialog.open()
    return dialog
