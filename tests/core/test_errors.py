"""Typed till errors: every kind formats its template with its own parameters, so the UI can
translate by type and fill in the same parameters."""

from __future__ import annotations

import inspect
import string

import pytest

from contract import gtin
from firmware import errors
from firmware.errors import TillError
from firmware.permissions import Action, ApprovalRequired

SAMPLE = {str: "X-1", int: 7, object: 3, Action: Action.REFUND, "int | str": 7}


def all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *all_subclasses(sub)]
    return found


KINDS = sorted({cls for cls in all_subclasses(TillError) if "__init__" in vars(cls)},
               key=lambda cls: cls.__name__)
CATEGORIES = [TillError, errors.StorageError, errors.AuthError, errors.InvalidCode,
              errors.TicketError, errors.CustomerError]


def placeholders(template: str) -> set[str]:
    return {field.split(".")[0] for _, field, _, _ in string.Formatter().parse(template) if field}


def make(cls: type[TillError]) -> TillError:
    hints = inspect.signature(cls.__init__, eval_str=True).parameters
    kwargs = {}
    for name, parameter in list(hints.items())[1:]:
        annotation = parameter.annotation
        kwargs[name] = SAMPLE.get(annotation, SAMPLE.get(str(annotation), "X-1"))
    return cls(**kwargs)


def test_there_are_many_kinds_and_each_is_used_as_designed() -> None:
    assert len(KINDS) > 50 and ApprovalRequired in KINDS
    for category in CATEGORIES:
        assert category is TillError or "__init__" not in vars(category), category
        assert category.__subclasses__(), category


@pytest.mark.parametrize("cls", KINDS, ids=lambda cls: cls.__name__)
def test_every_kind_formats_its_template_with_its_parameters(cls: type[TillError]) -> None:
    error = make(cls)
    names = list(inspect.signature(cls.__init__).parameters)[1:]
    assert list(error.params) == names, "params are the typed __init__ arguments, by name"
    assert placeholders(cls.template) <= set(error.params), "every placeholder has a param"
    assert "!r" not in cls.template and "!s" not in cls.template
    shown = {k: "€ 0,07" if k.endswith("_cents") else v for k, v in error.params.items()}
    assert str(error).replace("\xa0", " ") == cls.template.format(**shown)
    assert "{" not in str(error)
    for name, value in error.params.items():
        if name.endswith("_cents"):
            assert isinstance(value, int) and not isinstance(value, bool)


def test_money_parameters_are_cents_and_shown_as_money() -> None:
    error = errors.TenderTooSmall(given_cents=500, due_cents=800)
    assert error.params == {"given_cents": 500, "due_cents": 800}
    assert str(error) == "tendered €\xa05,00 is less than the €\xa08,00 due"


def test_approval_required_carries_its_action() -> None:
    error = ApprovalRequired(Action.PRICE_OVERRIDE)
    assert error.action is Action.PRICE_OVERRIDE and error.params == {"action": Action.PRICE_OVERRIDE}
    assert str(error) == "price override needs a manager PIN"


@pytest.mark.parametrize(("code", "kind", "params"), [
    ("", errors.EmptyCode, {}),
    ("12AB", errors.UnreadableCode, {"code": "12AB"}),
    ("12345", errors.CodeLength, {"code": "12345", "digits": 5}),
    ("8710398500012", errors.CheckDigit, {"code": "8710398500012", "symbology": "EAN-13",
                                          "check_digit": 2, "expected": 4}),
])
def test_barcode_errors_become_typed_till_errors(code: str, kind: type, params: dict) -> None:
    with pytest.raises(gtin.BarcodeError) as info:
        gtin.normalize_gtin(code)
    error = errors.code_refused(info.value)
    assert type(error) is kind and error.params == params


def test_storage_errors_name_the_entry_type_code() -> None:
    full = errors.storage_error(OSError("database or disk is full"), "cash_in")
    assert isinstance(full, errors.StorageFull) and full.params == {"entry_type": "cash_in"}
    failed = errors.storage_error(OSError("disk I/O error"), "sale")
    assert isinstance(failed, errors.StorageFailed)
    assert failed.params == {"entry_type": "sale", "cause": "disk I/O error"}
