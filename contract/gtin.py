"""GTIN validation (EAN-8, UPC-A, EAN-13, GTIN-14) and GS1 variable-measure in-store codes.

Every valid GTIN is normalised to 14 digits, so the UPC-A and EAN-13 forms of one item find
the same product.
"""

from __future__ import annotations

from dataclasses import dataclass

GTIN_LENGTHS = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}


class BarcodeError(ValueError):
    """A scanned or typed code that cannot be used. Like the till's errors it is typed: the
    class says why, `params` carry the details and `template` is the English wording."""

    template = "barcode {code} cannot be used"

    def __init__(self, **params: object) -> None:
        self.params: dict[str, object] = params
        super().__init__(self.template.format(**params))


class EmptyBarcode(BarcodeError):
    template = "empty barcode"

    def __init__(self) -> None:
        super().__init__()


class UnreadableBarcode(BarcodeError):
    template = "barcode {code!r} is unreadable: only digits are allowed"

    def __init__(self, code: str) -> None:
        super().__init__(code=code)


class BarcodeLength(BarcodeError):
    template = "barcode {code!r} has {digits} digits; a GTIN has 8, 12, 13 or 14"

    def __init__(self, code: str, digits: int) -> None:
        super().__init__(code=code, digits=digits)


class BadCheckDigit(BarcodeError):
    template = "barcode {code} ({symbology}) has check digit {check_digit}, expected {expected}"

    def __init__(self, code: str, symbology: str, check_digit: int, expected: int) -> None:
        super().__init__(code=code, symbology=symbology, check_digit=check_digit,
                         expected=expected)


def gs1_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (weights 3,1,3,... from the right)."""
    total = 3 * sum(map(int, payload[-1::-2])) + sum(map(int, payload[-2::-2]))
    return -total % 10


def is_valid_gtin(code: str) -> bool:
    try:
        normalize_gtin(code)
    except BarcodeError:
        return False
    return True


def normalize_gtin(code: str) -> str:
    """Checks length and check digit; returns the GTIN-14 form. Raises BarcodeError."""
    code = code.strip()
    if not code:
        raise EmptyBarcode()
    if not code.isascii() or not code.isdigit():
        raise UnreadableBarcode(code)
    if len(code) not in GTIN_LENGTHS:
        raise BarcodeLength(code, len(code))
    expected = gs1_check_digit(code[:-1])
    if int(code[-1]) != expected:
        raise BadCheckDigit(code, GTIN_LENGTHS[len(code)], int(code[-1]), expected)
    return code.zfill(14)


@dataclass(frozen=True)
class VariableLayout:
    prefix: str
    kind: str  # "price" (value in cents) or "weight" (value in grams)
    item_digits: int = 5
    value_digits: int = 5


@dataclass(frozen=True)
class VariableMeasure:
    """An in-store code resolved into the item number and its embedded price or weight."""

    item: str
    kind: str
    value: int


def parse_variable_measure(gtin14: str, layouts: tuple[VariableLayout, ...]) -> VariableMeasure | None:
    """For an EAN-13 with a configured prefix 20-29: PP + item digits + value digits + C."""
    if not gtin14.startswith("0"):
        return None
    ean13 = gtin14[1:]
    for layout in layouts:
        if ean13.startswith(layout.prefix):
            start = len(layout.prefix)
            item = ean13[start:start + layout.item_digits]
            value_start = start + layout.item_digits
            value = ean13[value_start:value_start + layout.value_digits]
            return VariableMeasure(item=item.lstrip("0") or "0", kind=layout.kind, value=int(value))
    return None


def make_variable_code(layout: VariableLayout, item: int, value: int) -> str:
    """Builds the EAN-13 a scale would print, for tests, the simulator and label printing."""
    body = layout.prefix + str(item).zfill(layout.item_digits) + str(value).zfill(layout.value_digits)
    body = body.ljust(12, "0")
    return body + str(gs1_check_digit(body))
