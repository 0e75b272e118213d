"""Goods received and stock counts at the till's manager screen.

Each is one journal entry carrying the counts, committed in the same transaction as the
till's local stock change, so head office can keep the store's stock from the journal
alone (headoffice/stock/).
"""

from __future__ import annotations

from typing import Any

from contract.gtin import BarcodeError
from contract.product_key import sku_of
from firmware.catalogue import Catalogue, ProductInfo
from firmware.errors import (
    CountedTwice,
    CountOutOfRange,
    NothingCounted,
    NothingReceived,
    NotStockTracked,
    ReceivedOutOfRange,
    UnknownProductId,
    code_refused,
)
from firmware.journal import Entry
from firmware.kernel import TillKernel
from firmware.models import StockLevel
from firmware.permissions import Action, Approval

MAX_UNITS = 1_000_000


def _line(product: ProductInfo, **values: Any) -> dict[str, Any]:
    return {"product_id": product.id, "sku": sku_of(product.gtin, product.plu),
            "code": product.gtin or product.plu, "name": product.name, **values}


class StockService:
    """Goods received, stock counts and the till's local stock figure."""

    def __init__(self, kernel: TillKernel, catalogue: Catalogue) -> None:
        self.kernel, self.catalogue = kernel, catalogue

    def product(self, ref: int | str) -> ProductInfo:
        """A stock-tracked product by id, or by a scanned/typed code (GTIN or PLU)."""
        if isinstance(ref, int):
            product = self.catalogue.by_id(ref)
        else:
            try:
                product = self.catalogue.resolve(ref).product
            except BarcodeError as exc:
                raise code_refused(exc) from None
        if product is None:
            raise UnknownProductId(ref)
        if not product.stock_tracked:
            raise NotStockTracked(product.name)
        return product

    def local_stock(self, product_id: int) -> int:
        row = StockLevel.get_or_none(StockLevel.product == product_id)
        return row.quantity if row else 0

    def goods_received(self, lines: list[tuple[int | str, int]], supplier: str = "",
                       reference: str = "", approval: Approval | None = None) -> Entry:
        """Adds delivered goods to stock: [(product id or code, units)], units > 0."""
        with self.kernel.lock:
            by = self.kernel.authorise(Action.STOCK, approval)
            if not lines:
                raise NothingReceived()
            data_lines, stock = [], []
            for ref, units in lines:
                product = self.product(ref)
                if not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
                    raise ReceivedOutOfRange(product.name, units, 1, MAX_UNITS)
                data_lines.append(_line(product, quantity=units))
                stock.append((product.id, units))
            return self.kernel.commit("goods_received", {
                "lines": data_lines, "supplier": supplier.strip(), "reference": reference.strip(),
                "approved_by": by}, stock=stock)

    def stock_count(self, counts: list[tuple[int | str, int]], note: str = "",
                    approval: Approval | None = None) -> Entry:
        """Records counted stock: [(product id or code, counted units)], counted >= 0. The
        entry holds what was counted, what the till expected and the difference."""
        with self.kernel.lock:
            by = self.kernel.authorise(Action.STOCK, approval)
            if not counts:
                raise NothingCounted()
            data_lines, stock, seen = [], [], set()
            for ref, counted in counts:
                product = self.product(ref)
                if product.id in seen:
                    raise CountedTwice(product.name)
                seen.add(product.id)
                if not isinstance(counted, int) or not 0 <= counted <= MAX_UNITS:
                    raise CountOutOfRange(product.name, counted, 0, MAX_UNITS)
                expected = self.local_stock(product.id)
                data_lines.append(_line(product, counted=counted, expected=expected,
                                        difference=counted - expected))
                stock.append((product.id, counted - expected))
            return self.kernel.commit("stock_count", {"lines": data_lines, "note": note.strip(),
                                                      "approved_by": by}, stock=stock)
