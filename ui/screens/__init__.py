"""The till's screens; each module has a .kv file beside it with the same name."""

from __future__ import annotations

from kivy.uix.screenmanager import Screen


def build_screens() -> list[Screen]:
    from ui.screens.done import DoneScreen
    from ui.screens.login import LoginScreen
    from ui.screens.manager import ManagerScreen
    from ui.screens.payment import PaymentScreen
    from ui.screens.sale import SaleScreen

    return [LoginScreen(name="login"), SaleScreen(name="sale"), PaymentScreen(name="payment"),
            DoneScreen(name="done"), ManagerScreen(name="manager")]
