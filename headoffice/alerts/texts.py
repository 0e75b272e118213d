"""Alert texts in Dutch (the default) and English, made from an alert's kind and parameters.

An alert stores its parameters, not a sentence, so the dashboard can show it in the reader's
language; the mail and the webhook carry the Dutch text. Times are the entry's own time (the
sale's clock), shown in Europe/Amsterdam local time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from contract.shop_time import SHOP_ZONE

LOCAL = SHOP_ZONE
LANGUAGES = ("nl", "en")

KINDS: dict[str, dict[str, str]] = {
    "after_hours": {"nl": "buiten openingstijd", "en": "after hours"},
    "no_sale": {"nl": "lade zonder verkoop", "en": "no sale"},
    "price_override": {"nl": "handmatige prijs", "en": "price override"},
    "cash_variance": {"nl": "kasverschil", "en": "cash variance"},
    "card_difference": {"nl": "pinverschil", "en": "card difference"},
    "reversal_rate": {"nl": "veel storno's en retouren", "en": "reversal rate"},
    "tamper": {"nl": "mogelijke manipulatie", "en": "possible tampering"},
    "offline_backlog": {"nl": "offline met achterstand", "en": "offline with backlog"},
    "dead_letters": {"nl": "veel geweigerde berichten", "en": "many refused messages"},
    "webshop_parked": {"nl": "webshopbestelling geparkeerd", "en": "webshop order parked"},
}

STATES: dict[str, dict[str, str]] = {
    "new": {"nl": "nieuw", "en": "new"},
    "sending": {"nl": "wordt verzonden", "en": "sending"},
    "sent": {"nl": "verzonden", "en": "sent"},
    "failed": {"nl": "niet verzonden", "en": "failed"},
}

TEXTS: dict[str, dict[str, str]] = {
    "after_hours": {
        "nl": "verkoop {where} om {time}, buiten de openingstijden {hours}",
        "en": "sale {where} at {time}, outside opening hours {hours}"},
    "no_sale": {
        "nl": "lade geopend zonder verkoop {where} door {cashier} (goedgekeurd door "
              "{approved_by}): {reason}",
        "en": "drawer opened without a sale {where} by {cashier} (approved by {approved_by}): "
              "{reason}"},
    "price_override": {
        "nl": "handmatige prijs {where}: {name} {old} -> {new}, goedgekeurd door {approved_by}",
        "en": "manual price {where}: {name} {old} -> {new} approved by {approved_by}"},
    "cash_variance": {
        "nl": "kasverschil {variance} bij Z {where}, meer dan {tolerance}",
        "en": "cash variance {variance} at Z {where} exceeds {tolerance}"},
    "card_difference": {
        "nl": "pinverschil {difference} bij Z {where}: de kassa en de pinautomaat tellen per "
              "merk anders ({brands})",
        "en": "card difference {difference} at Z {where}: the till and the PIN terminal count "
              "differently per brand ({brands})"},
    "reversal_rate": {
        "nl": "{cashier} op {store}/{terminal} heeft {reversals} storno's/retouren tegen "
              "{tickets} bonnen op {day} (grens {limit}%), bij #{seq}",
        "en": "{cashier} on {store}/{terminal} has {reversals} voids/refunds against {tickets} "
              "tickets on {day} (limit {limit}%), at #{seq}"},
    "tamper": {
        "nl": "mogelijke manipulatie: entry {seq} van terminal {terminal} geweigerd ({reason}): "
              "{detail}",
        "en": "possible tampering: entry {seq} of terminal {terminal} refused ({reason}): "
              "{detail}"},
    "offline_backlog": {
        "nl": "terminal {store}/{terminal} is offline met {backlog} niet verzonden entries "
              "(laatst gezien {last_seen})",
        "en": "terminal {store}/{terminal} is offline with {backlog} unsent entries "
              "(last seen {last_seen})"},
    "dead_letters": {
        "nl": "terminal {terminal}: {new} berichten geweigerd sinds de vorige melding "
              "({count} in totaal, {unkept} alleen geteld; laatste reden: {reason})",
        "en": "terminal {terminal}: {new} messages refused since the previous alert "
              "({count} in all, {unkept} only counted; last reason: {reason})"},
    "webshop_parked": {
        "nl": "bestelling {order} van webshop {shop} geparkeerd, de voorraad is er niet voor "
              "afgeboekt: {reason}",
        "en": "order {order} of webshop {shop} parked, no stock taken for it: {reason}"},
}

GROUPED = {"nl": "{count}× in dit venster ({first} t/m {last}); eerste: {text}",
           "en": "{count}× in this window ({first} to {last}); first: {text}"}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def local_time(value: str | dt.datetime | None, with_date: bool = True) -> str:
    """`02-12-2026 14:03:05` in Europe/Amsterdam; a time without an offset is taken as UTC."""
    if not value:
        return ""
    try:
        when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    when = when.astimezone(LOCAL)
    return when.strftime("%d-%m-%Y %H:%M:%S" if with_date else "%H:%M:%S")


def kind_name(kind: str, lang: str = "nl") -> str:
    return KINDS.get(kind, {}).get(lang, kind)


def state_name(state: str, lang: str = "nl") -> str:
    return STATES.get(state, {}).get(lang, state)


def alert_text(kind: str, params: Mapping[str, Any], lang: str = "nl", count: int = 1,
               first: str = "", last: str = "") -> str:
    """The alert's sentence; a group of several entries says how many and when."""
    template = TEXTS.get(kind, {}).get(lang) or TEXTS.get(kind, {}).get("nl") or "{kind}"
    values = _Blank({k: ("?" if v is None else v) for k, v in params.items()})
    values.setdefault("kind", kind)
    if "ts" in params:
        values["time"] = local_time(str(params["ts"]), with_date=False)[:5]
    text = template.format_map(values)
    if count > 1:
        text = GROUPED.get(lang, GROUPED["nl"]).format(
            count=count, first=local_time(first, with_date=False),
            last=local_time(last, with_date=False), text=text)
    return text
