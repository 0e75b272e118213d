"""One product identity shared by tills, head office and the webshop: its SKU.

A till's product ids are local; head office, the offers and the webshop need a name that
is the same everywhere. The SKU is the normalised GTIN-14 when the product has a barcode,
else `plu:<number>`. A journal line only carries the code that was scanned or tapped, so
`sku_for_code` turns such a code back into the SKU (an in-store price/weight code names
its product by PLU).
"""

from __future__ import annotations

from contract.gtin import BarcodeError, VariableLayout, normalize_gtin, parse_variable_measure

DEFAULT_LAYOUTS = (VariableLayout("21", "price"), VariableLayout("22", "weight"))


def sku_of(gtin: str | None, plu: str | None) -> str:
    """The SKU of a catalogue product (GTIN wins over PLU)."""
    if gtin:
        return normalize_gtin(gtin)
    if plu:
        return f"plu:{plu.lstrip('0') or '0'}"
    raise ValueError("a product needs a GTIN or a PLU")


def sku_for_code(code: str, layouts: tuple[VariableLayout, ...] = DEFAULT_LAYOUTS) -> str | None:
    """The SKU a scanned/typed code stands for, or None when it names no product."""
    code = (code or "").strip()
    if not code:
        return None
    if code.startswith("plu:"):
        return code
    if code.isdigit() and len(code) <= 6:
        return f"plu:{code.lstrip('0') or '0'}"
    try:
        gtin = normalize_gtin(code)
    except BarcodeError:
        return None
    measure = parse_variable_measure(gtin, layouts)
    if measure is not None:
        return f"plu:{measure.item}"
    return gtin


def parse_sku(text: str) -> str:
    """A SKU typed by a person (GTIN or plu:N); raises ValueError naming what is wrong."""
    sku = sku_for_code(text)
    if sku is None:
        raise ValueError(f"{text!r} is not a GTIN (8-14 digits with a valid check digit) "
                         "or plu:<number>")
    return sku
