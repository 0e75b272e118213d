"""`kassa office catalogue export`: the master as the CSV `import` reads (a round trip)."""

from __future__ import annotations

import csv
import io

from headoffice.catalogue.fields import content_text
from headoffice.catalogue.importcsv import COLUMNS
from headoffice.catalogue.models import ALL_STORES, MasterProduct
from headoffice.catalogue.pricing import price_at
from headoffice.catalogue.products import barcodes_of, cost_at
from headoffice.catalogue.times import now_utc


def euro_text(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100},{cents % 100:02d}"


def export_csv() -> str:
    now = now_utc()
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    for p in MasterProduct.select().order_by(MasterProduct.sku):
        writer.writerow([p.gtin or "", " ".join(barcodes_of(p.id)), p.plu or "", p.name,
                         p.category, p.vat_code, p.unit, p.age_limit or "", p.deposit or "",
                         "ja" if p.active else "nee", euro_text(price_at(p.id, ALL_STORES, now)),
                         euro_text(cost_at(p.id, now)), content_text(p.content_amount, p.content_unit)])
    return out.getvalue()
