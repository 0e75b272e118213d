"""The dashboard's language: Dutch, with English as a switch (the `kassa_lang` cookie).

Templates write their Dutch text through `_()`; the Dutch text is the message id and `EN`
holds its English form (a text missing there stays Dutch). Dates are `02-12-2026`, times
local (Europe/Amsterdam), whatever zone the stored ISO time has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from headoffice.alerts.texts import LOCAL, local_time

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
COOKIE = "kassa_lang"

DEVICE_STATES = {
    "ready": "gereed", "printing": "bezig met printen", "paper_out": "papier op",
    "cover_open": "klep open", "offline": "niet bereikbaar", "error": "storing",
    "open": "open", "closed": "dicht", "open_too_long": "te lang open",
    "connected": "verbonden", "disconnected": "losgekoppeld", "unknown": "onbekend",
}

EN: dict[str, str] = {
    # navigation and page titles
    "Kassa hoofdkantoor": "Kassa head office", "Vandaag": "Today", "Perioden": "Periods",
    "Terminals": "Terminals", "Z-rapporten": "Z reports", "Meldingen": "Alerts",
    "Voorraad & klanten": "Stock & customers", "Btw-aangifte": "VAT return",
    "Belasting": "Tax", "uitloggen": "log out", "Menu": "Menu",
    "Belastingoverzichten": "Tax reports", "Voorraad en klanten": "Stock and customers",
    # login and errors
    "Gebruiker": "User", "Wachtwoord": "Password", "Inloggen": "Log in",
    "Onbekende gebruiker of verkeerd wachtwoord": "Unknown user or wrong password",
    "Ongeldige datum: gebruik JJJJ-MM-DD": "Invalid date: use YYYY-MM-DD",
    "Ongeldige periode": "Invalid period", "niet ingelogd": "login required",
    "Fout": "Error", "Terug naar vandaag": "Back to today",
    "Deze melding bestaat niet": "This alert does not exist",
    "alle winkels": "all shops", "CSV met manifest (zip)": "CSV with manifest (zip)",
    "JSON lines met manifest (zip)": "JSON lines with manifest (zip)",
    "Onbekend soort export": "Unknown kind of export",
    # dashboard
    "Omzet vandaag": "Turnover today", "omzet (incl. btw)": "turnover (incl. VAT)",
    "bonnen": "tickets", "gemiddelde bon": "average ticket",
    "retouren / annuleringen betaald / open": "refunds / voids of paid / open tickets",
    "Per uur": "Per hour",
    "Topproducten": "Top products", "Product": "Product", "Aantal": "Quantity",
    "Omzet": "Turnover", "Per winkel en terminal": "Per shop and terminal", "Winkel": "Shop",
    "Terminal": "Terminal", "Bonnen": "Tickets", "Gem. bon": "Avg. ticket",
    "Geen meldingen.": "No alerts.",
    # periods
    "Periode": "Period", "t/m": "to", "dag": "day", "week": "week", "maand": "month",
    "jaar": "year", "winkel (alle)": "shop (all)", "Toon": "Show", "vorige": "previous",
    "verschil": "change", "Gemiddelde bon": "Average ticket", "Artikelen": "Items",
    "Retouren": "Refunds", "Annuleringen betaalde bonnen": "Voids of paid tickets",
    "Annuleringen open bonnen": "Voids of open tickets", "Contant / pin / bon": "Cash / card / voucher",
    "Per winkel": "Per shop", "vorige periode": "previous period", "nieuw": "new",
    "n.v.t.": "n/a",
    # terminals
    "Verbinding": "Link", "Achterstand": "Backlog", "Laatst gezien": "Last seen",
    "Ontvangen t/m": "Received up to", "Printer": "Printer", "Lade": "Drawer",
    "Scanner": "Scanner", "Probleem": "Problem", "verbonden": "online",
    "niet verbonden": "offline", "sinds": "since",
    "Sleutel (SHA-256-vingerafdruk)": "Key (SHA-256 fingerprint)", "sleutel": "key",
    "niet ingeschreven": "not enrolled",
    "gereed": "ready", "bezig met printen": "printing", "papier op": "out of paper",
    "klep open": "cover open", "niet bereikbaar": "offline", "storing": "error",
    "open": "open", "dicht": "closed", "te lang open": "open too long",
    "losgekoppeld": "disconnected", "onbekend": "unknown",
    # alerts
    "Tijd": "Time", "Soort": "Kind", "Aantal keer": "Count", "Winkel/terminal": "Shop/terminal",
    "Melding": "Alert",
    "Verzonden": "Delivery", "Gezien": "Seen", "gezien door": "seen by", "om": "at",
    "Tijd van de verkoop (of van de oorzaak), lokale tijd.":
        "Time of the sale (or of the cause), local time.",
    # shop
    "Bij te bestellen": "To reorder", "Weer-op-voorraad-mails verzonden": "Back-in-stock mails sent",
    "Mails mislukt": "Mails failed", "Klanten met toestemming": "Customers with consent",
    "Bestellijst": "Reorder list", "Locatie": "Location", "Artikel": "Item", "Naam": "Name",
    "Voorraad": "Stock", "Minimum": "Minimum", "Bestellen": "Order",
    "Niets onder het minimum.": "Nothing below the minimum.",
    "Meer verkocht dan op voorraad": "Sold more than in stock", "Stand na": "Level after",
    "Bron": "Source", "Weer op voorraad": "Back in stock", "Mails verzonden": "Mails sent",
    "Mislukt": "Failed", "Nog niets weer op voorraad.": "Nothing back in stock yet.",
    "Aanbiedingen": "Offers", "Actie": "Campaign", "Geldig": "Valid", "Korting": "Discount",
    "Gemaild": "Mailed", "Ingewisseld": "Redeemed", "Budget": "Budget",
    "Vastgelegd": "Committed", "Geen acties.": "No campaigns.",
    "Vaker ingewisseld dan toegestaan": "Redeemed more often than allowed",
    "Aanbieding": "Offer", "Toegestaan": "Allowed", "Korting gegeven": "Discount given",
    # exports page
    "Btw-aangifte (rubrieken 1a, 1b, 1c, 1e)": "VAT return (boxes 1a, 1b, 1c, 1e)",
    "Download btw-overzicht (CSV)": "Download VAT report (CSV)",
    "Bekijk de btw-aangifte op het scherm": "Show the VAT return on screen",
    "Download auditfile (XAF)": "Download auditfile (XAF)",
    "Volledig journaal": "Full journal",
    "Controle door de accountant, offline:": "Offline check by the accountant:",
}


def language(cookies: dict[str, str]) -> str:
    value = cookies.get(COOKIE, DEFAULT)
    return value if value in LANGUAGES else DEFAULT


def translator(lang: str) -> Callable[..., str]:
    """`_('Dutch text', name=value)`: the text in `lang`, with `{name}` filled in."""
    table = EN if lang == "en" else {}

    def _(text: str, **params: Any) -> str:
        found = table.get(text, text)
        return found.format(**params) if params else found
    return _


def device_state(state: str) -> str:
    """The Dutch name of a device state a till reports (unknown names are shown as they are)."""
    return DEVICE_STATES.get(state, state)


def date_nl(value: str | dt.date | None) -> str:
    """`02-12-2026` from a date or an ISO date or time (times in local time)."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        return local_time(value)[:10]
    if isinstance(value, dt.date):
        return value.strftime("%d-%m-%Y")
    text = str(value)
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text).strftime("%d-%m-%Y")
        except ValueError:
            return text
    if len(text) == 7 and text[4] == "-":
        return f"{text[5:]}-{text[:4]}"
    return local_time(text)[:10]


def chart_label(label: str) -> str:
    """An axis label of the period chart: `02-12` for a day, `12-2026` for a month."""
    if len(label) == 10:
        return f"{label[8:10]}-{label[5:7]}"
    if len(label) == 7:
        return f"{label[5:]}-{label[:4]}"
    return label


def now_local() -> dt.datetime:
    return dt.datetime.now(LOCAL)
