"""Child process of tests/ui/test_signup_dialog.py: a customer's sign-up on the real window.

Usage: python -m tests.ui.signup_scene WIDTHxHEIGHT OUT_DIR VAR_DIR
The cashier opens Search > Customers > "Klant aanmelden", types an address without a dot in
its domain on the on-screen keyboard (the dialog names the problem), corrects it, types a
name, goes on to the consent question and answers yes; then a second customer who says no.
Writes OUT_DIR/signup-WxH.json and a PNG per step.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from tests.ui.scenario import Driver, dialog, run_scene


def _open(kind: str) -> Any:
    from ui.signup_dialog import ConsentDialog, SignupDialog

    found = dialog()
    wanted = SignupDialog if kind == "address" else ConsentDialog
    return found if isinstance(found, wanted) else None


def _type(d: Driver, text: str) -> None:
    keys = _open("address").ids.keyboard
    for char in text:
        d.key(keys, "␣" if char == " " else char)


def _pending(till: Any) -> list[dict]:
    from contract.signup import decode_signup
    from firmware import signup

    return [decode_signup(payload).__dict__ for _id, payload in signup.pending(till.db)]


def scene(d: Driver) -> Iterator[Any]:
    from firmware.models import JournalEntry

    app = d.app
    sm = app.sm
    yield (lambda: sm.current == "login", "the login screen")
    yield 0.3
    login = sm.get_screen("login")
    d.type(login.ids.keypad, "1111")
    d.key(login.ids.keypad, "OK")
    yield (lambda: sm.current == "sale", "the sale screen after login")
    sale = sm.get_screen("sale")
    journal_before = JournalEntry.select().count()
    yield 0.3
    d.tap(sale.ids.tab_search)
    yield 0.3
    d.tap(sale.ids.search_for)
    yield (lambda: getattr(sale, "signup_button", None) is not None, "the sign-up button")
    yield 0.3
    d.shot("s1-customers")
    d.result["button"] = sale.signup_button.text
    d.tap(sale.signup_button)
    yield (lambda: _open("address") is not None, "the sign-up dialog")
    yield 0.3
    d.shot("s2-signup")
    box = _open("address")
    d.result["title"] = box.ids.title.text
    d.result["keys"] = sorted(b.key for b in box.ids.keyboard.children)
    _type(d, "noor.jansen@example")
    yield 0.2
    d.tap(box.ids.next)
    yield (lambda: bool(_open("address") and _open("address").error), "the address refused")
    yield 0.3
    d.shot("s3-bad-address")
    d.result["refused"] = box.ids.title.text
    _type(d, ".nl")
    d.tap(box.ids.name_field)
    yield 0.2
    _type(d, "noor jansen")
    yield 0.3
    d.shot("s4-typed")
    d.result["typed"] = {"email": box.email, "name": box.name,
                         "email_field": box.ids.email_field.text,
                         "name_field": box.ids.name_field.text}
    d.tap(box.ids.next)
    yield (lambda: _open("consent") is not None, "the consent question")
    yield 0.3
    d.shot("s5-consent")
    asked = _open("consent")
    d.result["question"] = asked.text
    d.result["answers"] = [asked.ids.no.text, asked.ids.yes.text]
    d.tap(asked.ids.yes)
    yield (lambda: dialog() is None, "the sign-up done")
    yield 0.3
    d.shot("s6-signed-up")
    d.result["after_yes"] = {"message": sale.message, "pending": _pending(app.till)}

    d.tap(sale.signup_button)
    yield (lambda: _open("address") is not None, "the sign-up dialog, second customer")
    yield 0.3
    _type(d, "sem@example.com")
    d.tap(_open("address").ids.next)
    yield (lambda: _open("consent") is not None, "the consent question, second customer")
    yield 0.3
    d.tap(_open("consent").ids.no)
    yield (lambda: dialog() is None, "the second sign-up done")
    yield 0.3
    d.shot("s7-second-no")
    d.result["after_no"] = {"message": sale.message, "pending": _pending(app.till)}
    d.result["journal_grew_by"] = JournalEntry.select().count() - journal_before
    d.result["journal_has_address"] = JournalEntry.select().where(
        JournalEntry.body.contains("@")).exists()


def main(argv: list[str]) -> int:
    return run_scene(argv, "signup", {}, scene)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
