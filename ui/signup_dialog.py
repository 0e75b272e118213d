"""Customer sign-up at the till: "Klant aanmelden".

Two dialogs. The first takes the customer's e-mail address and, if they like, a name, on an
on-screen keyboard made for addresses (digits, letters, @ . - _ +, a shift key and a space
for the name); the address is checked by the till service before the next step, and a bad
one is named on the title line. The second reads out the consent question
(contract.signup.CONSENT_TEXTS) and takes the customer's explicit answer, no on the left,
yes on the right, as every confirmation of the till. Only then is the sign-up recorded
(TillService.sign_up), with the cashier; the address goes to head office outside the
journal (firmware/signup.py).
"""

from __future__ import annotations

from collections.abc import Callable

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.modalview import ModalView

from contract.signup import CONSENT_TEXTS, CONSENT_VERSION
from firmware.errors import TillError
from ui import widgets as w
from ui.dialogs import ConfirmDialog, load_rules
from ui.errors import error_text
from ui.i18n import _, language
from ui.metrics import S

# Four rows of eleven: every key of an address, a shift for the name's capitals, a space.
KEY_ROWS = ("1234567890⌫", "qwertyuiop@", "asdfghjkl.-", "zxcvbnm_+⇧␣")
SYMBOLS = {"⌫", "⇧", "␣"}  # drawn with DejaVuSans: Roboto has none of them
MAX_EMAIL, MAX_NAME = 254, 100


class SignupDialog(ModalView):
    """The address and the optional name; `on_next(email, name)` returns an error text to
    stay open with, or None when the address was accepted."""

    title = StringProperty("")
    email = StringProperty("")
    name = StringProperty("")
    field = StringProperty("email")  # email | name: where the keys type
    shift = BooleanProperty(False)
    error = StringProperty("")

    def __init__(self, on_next: Callable[[str, str], str | None], **kwargs) -> None:
        load_rules()
        super().__init__(auto_dismiss=False, **kwargs)
        self.title = _("Sign up a customer")
        self.on_next = on_next

    def on_kv_post(self, base_widget) -> None:  # noqa: ANN001
        for row in KEY_ROWS:
            for key in row:
                button = w.BigButton(text=key, font_size=S(22),
                                     **({"font_name": "DejaVuSans"} if key in SYMBOLS else {}))
                button.key = key
                button.bind(on_release=lambda b: self.key(b.key))
                self.ids.keyboard.add_widget(button)

    def on_shift(self, _dialog, shift: bool) -> None:  # noqa: ANN001
        for button in self.ids.keyboard.children:
            if button.key == "⇧":
                button.tone = w.ORANGE if shift else w.GREY

    def choose(self, field: str) -> None:
        self.field = field
        self.shift = field == "name" and not self.name
        self.error = ""

    def key(self, key: str) -> None:
        self.error = ""
        value = self.email if self.field == "email" else self.name
        if key == "⌫":
            value = value[:-1]
        elif key == "⇧":
            self.shift = not self.shift
            return
        else:
            char = " " if key == "␣" else key
            if self.field == "email" and char == " ":
                return  # an address has no spaces
            if self.shift and char.isalpha():
                char = char.upper()
            limit = MAX_EMAIL if self.field == "email" else MAX_NAME
            if len(value) < limit:
                value += char
        if self.field == "email":
            self.email = value
        else:
            self.name = value
            self.shift = self.field == "name" and (not value or value.endswith(" "))

    def submit(self) -> None:
        error = self.on_next(self.email, self.name)
        if error:
            self.error = error
            self.field = "email"
            return
        self.dismiss()


def consent_text() -> str:
    texts = CONSENT_TEXTS[CONSENT_VERSION]
    return texts.get(language(), texts["nl"])


class ConsentDialog(ConfirmDialog):
    """The consent question read out to the customer, with the address it is for."""

    def __init__(self, email: str, on_answer: Callable[[bool], None], **kwargs) -> None:
        super().__init__(f"{consent_text()}\n[b]{email}[/b]", _("Yes, e-mails welcome"),
                         lambda: on_answer(True), no_text=_("No e-mails"),
                         on_no=lambda: on_answer(False), **kwargs)
        self.email = email
        self.ids.question.markup = True
        self.ids.question.font_size = S(18)
        self.ids.yes.tone = w.GREEN
        self.ids.no.tone = w.BLUE


def ask(app) -> SignupDialog:  # noqa: ANN001 - ui.app.KassaApp
    """Opens the sign-up; the result is told on the sale screen."""
    till = app.till

    def told(text: str) -> None:
        if app.sm is not None and app.sm.has_screen("sale"):
            app.sm.get_screen("sale").inform(text)

    def answered(email: str, name: str, consent: bool) -> None:
        app.signup_dialog = None
        done = _("Signed up: {email}").format(email=email) + " · " + (
            _("e-mails welcome") if consent else _("no e-mails"))
        app.attempt(till.sign_up, email=email, name=name, consent=consent,
                    on_done=lambda _receipt: told(done))

    def next_step(email: str, name: str) -> str | None:
        try:
            address = till.check_signup_email(email)
        except TillError as exc:
            return error_text(exc)
        app.signup_dialog = ConsentDialog(
            address, lambda consent: answered(address, name.strip(), consent))
        app.signup_dialog.open()
        return None

    app.signup_dialog = SignupDialog(next_step)
    app.signup_dialog.open()
    return app.signup_dialog
