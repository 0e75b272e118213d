"""Right of access (GDPR art. 15): everything head office holds on one customer, as JSON and
as a readable PDF, and a record of who asked.

Above customers, offers and notifications (it reads all three), like headoffice/privacy.py.
The record of the request (AccessRequest) keeps only the pseudonym, so it survives a later
erasure without holding personal data.
"""

from __future__ import annotations

import io
import json
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from contract.money import format_money
from headoffice.customers import service
from headoffice.customers.models import AccessRequest, Customer, Purchase
from headoffice.notify.mailer import long_date
from headoffice.notify.models import Notification
from headoffice.offers.models import Offer, Redemption
from headoffice.orm import write_transaction

VIAS = ("cli", "dashboard")


def customer_data(ref: str, asked_by: str, via: str) -> dict[str, Any]:
    """The customer's data as one JSON-ready dict; journals the request (who, how, when)."""
    if via not in VIAS:
        raise service.CustomerError(f"via: {via!r} is not one of {', '.join(VIAS)}")
    if not asked_by.strip():
        raise service.CustomerError("asked by: missing (who asks for the data?)")
    view = service.get(ref)
    cid = view.customer_id
    row = Customer.get_by_id(cid)
    stamp = service.now_iso()
    with write_transaction():
        AccessRequest.create(customer_id=cid, at=stamp, asked_by=asked_by.strip()[:64], via=via)
    offers = list(Offer.select().where(Offer.customer_id == cid).order_by(Offer.offer_id))
    redemptions = list(Redemption.select().where(Redemption.offer_id.in_(
        [o.offer_id for o in offers] or [""])).order_by(Redemption.ts))
    return {
        "exported": stamp,
        "profile": {"customer_id": cid, "name": row.name, "email": row.email, "card": row.card,
                    "language": row.language, "home_store": row.home_store,
                    "consent": row.consent, "consent_date": row.consent_date,
                    "consent_source": row.consent_source, "created": row.created},
        "consent_log": [{"at": c.at, "consent": c.consent, "source": c.source,
                         "recorded_by": c.recorded_by, "text_version": c.text_version}
                        for c in service.consent_log(cid)],
        "favourites": list(view.favourites),
        "purchases": [{"day": p.day, "terminal": p.terminal, "seq": p.seq, "sku": p.sku,
                       "quantity": p.quantity}
                      for p in Purchase.select().where(Purchase.customer_id == cid)
                      .order_by(Purchase.day, Purchase.terminal, Purchase.seq, Purchase.line_no)],
        "offers": [{"offer_id": o.offer_id, "sku": o.sku, "title": o.title, "value": o.value,
                    "kind": o.kind, "uses": o.uses, "valid_from": o.valid_from,
                    "valid_until": o.valid_until, "emailed": o.emailed,
                    "redeemed": [{"at": r.ts, "terminal": r.terminal, "discount": r.discount}
                                 for r in redemptions if r.offer_id == o.offer_id]}
                   for o in offers],
        "mails_sent": sorted(
            [{"kind": "back_in_stock", "at": n.at, "sku": n.sku, "state": n.state}
             for n in Notification.select().where(Notification.customer_id == cid)]
            + [{"kind": "offers", "at": o.emailed, "sku": o.sku, "state": "sent"}
               for o in offers if o.emailed], key=lambda m: (m["at"], m["kind"], m["sku"])),
        "access_requests": [{"at": a.at, "asked_by": a.asked_by, "via": a.via}
                            for a in AccessRequest.select().where(AccessRequest.customer_id == cid)
                            .order_by(AccessRequest.at, AccessRequest.id)],
    }


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True).encode()


class _Writer:
    """Top-to-bottom text lines on A4 pages."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas, self.y = canvas, A4[1] - 20 * mm

    def line(self, text: str, size: float = 9, bold: bool = False) -> None:
        if self.y < 20 * mm:
            self.canvas.showPage()
            self.y = A4[1] - 20 * mm
        self.canvas.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        self.canvas.drawString(18 * mm, self.y, text[:110])
        self.y -= size * 1.5


def as_pdf(data: dict[str, Any]) -> bytes:
    """The same data, readable: one section per kind, Dutch headings."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    canvas.setTitle("Uw gegevens")
    w = _Writer(canvas)
    p = data["profile"]
    w.line("Uw gegevens bij ons", 16, bold=True)
    w.line(f"Opgevraagd op {data['exported']}")
    w.line("")
    w.line("Profiel", 12, bold=True)
    for label, key in (("Klantnummer", "customer_id"), ("Naam", "name"), ("E-mail", "email"),
                       ("Klantenkaart", "card"), ("Taal", "language"),
                       ("Vaste winkel", "home_store"), ("Aangemaakt", "created")):
        w.line(f"{label}: {p[key] or '-'}")
    w.line(f"Toestemming voor e-mail: {'ja' if p['consent'] else 'nee'}"
           f" (sinds {p['consent_date'] or '-'}, via {p['consent_source'] or '-'})")
    w.line("")
    w.line("Toestemmingen (logboek)", 12, bold=True)
    for c in data["consent_log"] or [None]:
        w.line("-" if c is None else f"{c['at']}: {'ja' if c['consent'] else 'nee'} via "
               f"{c['source']}{', vastgelegd door ' + c['recorded_by'] if c['recorded_by'] else ''}"
               f"{', tekst ' + c['text_version'] if c.get('text_version') else ''}")
    w.line("")
    w.line("Favorieten", 12, bold=True)
    w.line(", ".join(data["favourites"]) or "-")
    w.line("")
    w.line(f"Aankopen ({len(data['purchases'])})", 12, bold=True)
    for b in data["purchases"] or [None]:
        w.line("-" if b is None else f"{b['day']}: {b['quantity']} x {b['sku']} "
               f"(kassa {b['terminal']}, bon {b['seq']})")
    w.line("")
    w.line("Aanbiedingen", 12, bold=True)
    for o in data["offers"] or [None]:
        if o is None:
            w.line("-")
            continue
        w.line(f"{o['offer_id']}: {o['title']}, geldig van {long_date('nl', o['valid_from'])}"
               f" t/m {long_date('nl', o['valid_until'])}")
        for r in o["redeemed"]:
            w.line(f"    gebruikt {r['at']} op {r['terminal']}: {format_money(r['discount'])} korting")
    w.line("")
    w.line("Verstuurde e-mails", 12, bold=True)
    for m in data["mails_sent"] or [None]:
        w.line("-" if m is None else f"{m['at']}: {m['kind']} {m['sku']} ({m['state']})")
    w.line("")
    w.line("Inzageverzoeken", 12, bold=True)
    for a in data["access_requests"]:
        w.line(f"{a['at']}: door {a['asked_by']} via {a['via']}")
    canvas.save()
    return out.getvalue()
