"""Whether head office has ever heard of a SKU: as a product seen on a sale line or pushed to
the webshop, or in the stock ledger; callers above the product master add its check (the
master imports stock, so stock cannot import it). Levels and counts for a SKU nobody has
heard of are refused: a typo would otherwise become a phantom product."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from headoffice.stock.models import OfficeProduct, StockMove


class UnknownSku(LookupError):
    """A SKU head office has never heard of."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"SKU {sku} is unknown at head office (not in the product master, "
                         "never sold, never in stock)")
        self.sku = sku


def is_known(sku: str, also: Iterable[Callable[[str], bool]] = ()) -> bool:
    return (OfficeProduct.select().where(OfficeProduct.sku == sku).exists()
            or StockMove.select().where(StockMove.sku == sku).exists()
            or any(check(sku) for check in also))


def require_known(sku: str, also: Iterable[Callable[[str], bool]] = ()) -> str:
    if not is_known(sku, also):
        raise UnknownSku(sku)
    return sku
