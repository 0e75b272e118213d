"""Every error the till or a device can raise reaches the screen in Dutch, chosen by its type.

Walks the whole TillError and DeviceError class trees, raises each with sample parameters,
renders it as the UI does (ui/errors.py) with the UI in Dutch, and checks the text is the
Dutch translation of the class's template with the parameters filled in, with no English
word of the template left; and that nothing in ui/ or drivers/ branches on message text.
"""

from __future__ import annotations

import inspect
import re
import string
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from firmware import errors as till_errors
from firmware import ports
from firmware.permissions import Action, ApprovalRequired
from ui import i18n
from ui.errors import CODE_WORDS, error_text
from ui.extract import error_types

ROOT = Path(__file__).resolve().parents[2]
SAMPLES: dict[str, Any] = {
    "action": Action.REFUND, "entry_type": "sale", "tender": "voucher", "role": "manager",
    "problem": "edited,missing", "product": "Kaas", "code": "8712345678906", "name": "Sanne",
    "device": "GPIO23", "backend": "lgpio", "setting": "drawer.pulse_ms", "symbology": "EAN-13",
    "cause": "SQLITE_IOERR", "rule": "of-1", "kind": "x9", "card": "2990000000017",
    "plu": "900", "item": "00123", "seq": 42, "line_no": 3, "quantity": 12, "minimum": 1,
    "maximum": 9999, "remaining": 2, "digits": 11, "check_digit": 4, "expected": 6,
    "seconds": 30, "pin": 23, "age": 18, "parked_id": 5, "product_id": 77, "count": -1,
    "service_id": "a1b2c3d4e5", "outcome": "declined", "reason": "Refusal",
    "email": "noor@bakkerij", "limit": 100,
}
DETAIL = "the driver's own English sentence, for the log only"


def catalog(language: str) -> Any:
    with (i18n.SOURCE_DIR / language / "LC_MESSAGES" / "kassa.po").open("rb") as source:
        return read_po(source, locale=language)


NL = catalog("nl")


def sample(name: str) -> Any:
    return 1234 if name.endswith("_cents") else SAMPLES[name]


def fields(template: str) -> list[str]:
    return [f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(template) if f]


def raise_one(kind: type[Exception]) -> Exception:
    """An instance of `kind` with sample parameters, built through its own constructor."""
    if issubclass(kind, ports.DeviceError):
        return kind(DETAIL, **{name: sample(name) for name in fields(kind.template)})
    if kind is ApprovalRequired:
        return kind(SAMPLES["action"])
    init = kind.__init__
    if init is till_errors.TillError.__init__:  # a category: its params are its placeholders
        return kind(**{name: sample(name) for name in fields(kind.template)})
    names = [p.name for p in inspect.signature(init).parameters.values() if p.name != "self"]
    return kind(**{name: sample(name) for name in names})


def words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ]+", text)}


def literal_parts(template: str) -> list[str]:
    return [text.strip() for text, _, _, _ in string.Formatter().parse(template) if text.strip()]


KINDS = error_types()


def test_the_walk_finds_the_whole_trees():
    names = {kind.__name__ for kind in KINDS}
    assert {"NeedsWeight", "UnknownProduct", "NotLoggedIn", "StorageFull", "ApprovalRequired",
            "WrongPin", "PaperOut", "PinUnavailable", "DeviceFault"} <= names
    assert len(KINDS) > 70


@pytest.fixture
def dutch():
    i18n.set_language("nl")
    yield
    i18n.set_language("nl")


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_every_error_type_is_shown_in_dutch(kind: type[Exception], dutch: None) -> None:
    error = raise_one(kind)
    assert isinstance(error, (till_errors.TillError, ports.DeviceError))
    template = type(error).template
    dutch_template = NL.get(template).string
    assert dutch_template and dutch_template != template or words(template) <= words(dutch_template)
    shown = error_text(error)
    for part in literal_parts(dutch_template):  # the Dutch sentence, every fixed piece of it
        assert part in shown, (kind.__name__, part, shown)
    english = words(template) - words(dutch_template) - {"s"}
    assert not english & words(shown), (kind.__name__, english & words(shown), shown)
    for name, value in getattr(error, "params", {}).items():  # parameters made local too
        if name.endswith("_cents"):
            assert i18n.money(value) in shown
        if name in CODE_WORDS and isinstance(value, str) and name in fields(template):
            for code in value.split(","):
                dutch_word = NL.get(CODE_WORDS[name][code]).string  # manager is Dutch too
                assert code not in words(shown) or code in words(dutch_word), (code, shown)
    assert DETAIL not in shown and "Action." not in shown


def test_money_in_errors_follows_the_language(dutch: None) -> None:
    error = till_errors.TenderTooSmall(given_cents=500, due_cents=123456)
    assert error_text(error) == "ontvangen € 5,00 is minder dan de € 1.234,56 te betalen".replace(
        "€ ", "€\xa0")
    i18n.set_language("en")
    assert error_text(error) == "tendered €5.00 is less than the €1,234.56 due"


def test_approval_and_codes_are_said_in_words(dutch: None) -> None:
    assert error_text(ApprovalRequired(Action.NO_SALE)).startswith("Lade openen (geen verkoop):")
    assert error_text(till_errors.StorageFull("sale")).startswith("de schijf is vol: de verkoop")
    assert error_text(till_errors.WrongRole("Sanne", "cashier")) == "Sanne is geen kassier"


def test_an_error_of_no_known_kind_is_not_shown_in_english(dutch: None) -> None:
    assert "ValueError" not in error_text(ValueError("bad thing happened"))
    assert "bad thing" not in error_text(ValueError("bad thing happened"))


BRANCHING = re.compile(
    r"""_\(str\(|["'][^"']*["']\s+(not\s+)?in\s+(str\(|text\b|message\b|reason\b|detail\b)"""
    r"""|str\(\w+\)\.(startswith|endswith|lower|find)|(text|detail|message|reason)"""
    r"""\.startswith\(""")


@pytest.mark.parametrize("package", ["ui", "drivers"])
def test_nothing_branches_on_message_text(package: str) -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for path in sorted((ROOT / package).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if BRANCHING.search(line)]
    assert found == []
