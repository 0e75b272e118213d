"""Errors in the cashier's language, chosen by the error's type, never by its message.

Every TillError (firmware/errors.py) and every DeviceError (firmware/ports.py) class has a
`template`: the English text with {name} placeholders, which is also its msgid in
ui/locale/*/kassa.po. The UI translates the template and fills in the error's `params`, made
local first: amounts (`*_cents`) in the language's money format, codes (a journal entry type,
a tender, a role, journal problem codes) as words of the language, a manager-only Action by
its button text. An error of no known type is shown as a plain "something went wrong", never
in English.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping
from typing import Any

from firmware.permissions import Action
from ui.i18n import N_, _, money

log = logging.getLogger(__name__)

ACTION_TEXT = {
    Action.VOID_PAID_TICKET: N_("Void a paid ticket"),
    Action.REFUND: N_("Refund"),
    Action.PRICE_OVERRIDE: N_("Change a price"),
    Action.LARGE_DISCOUNT: N_("Large discount"),
    Action.NO_SALE: N_("Open the drawer (no sale)"),
    Action.CASH_IN_OUT: N_("Cash in / out"),
    Action.Z_CLOSE: N_("Close the day (Z)"),
    Action.TRAINING: N_("Training mode"),
    Action.EXIT_KIOSK: N_("Leave the till"),
    Action.STOCK: N_("Stock"),
    Action.ACK_JOURNAL_ALARM: N_("Acknowledge the journal alarm"),
}

# Codes that errors carry as parameters, as words of the cashier's language.
CODE_WORDS = {
    "entry_type": {
        "sale": N_("sale"), "refund": N_("refund"), "void": N_("void"),
        "no_sale": N_("drawer opening"), "cash_in": N_("cash in"), "cash_out": N_("cash out"),
        "float": N_("opening float"), "cash_count": N_("cash count"), "login": N_("login"),
        "logout": N_("logout"), "training_on": N_("training mode change"),
        "training_off": N_("training mode change"), "price_override": N_("price change"),
        "x_report": N_("X report"), "z_close": N_("day close"), "receipt_copy": N_("receipt copy"),
        "config_change": N_("configuration change"), "software_start": N_("software start"),
        "software_update": N_("software update"), "journal_alarm_ack": N_("alarm acknowledgement"),
        "goods_received": N_("goods receipt"), "stock_count": N_("stock count"),
        "offer_redemption": N_("offer"), "customer_favourite": N_("favourite"),
    },
    "tender": {"cash": N_("cash"), "card": N_("card"), "voucher": N_("voucher")},
    "role": {"manager": N_("manager"), "cashier": N_("cashier")},
    "problem": {
        "missing": N_("entries missing"), "edited": N_("entries altered"),
        "truncated": N_("journal cut short"), "totals": N_("totals do not match"),
        "behind_office": N_("journal behind head office"), "journal": N_("journal"),
        "anchor": N_("anchor file missing or wrong"), "z_figures": N_("Z report figures do not match"),
    },
}


class ActionWords(str):
    """An Action in the UI's words; `{action.words}` in a template reads the same text."""

    @property
    def words(self) -> str:
        return str(self)


def local_value(name: str, value: Any) -> Any:
    """One parameter as the cashier reads it."""
    if isinstance(value, Action):
        return ActionWords(_(ACTION_TEXT.get(value, value.value)))
    if name.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return money(value)
    words = CODE_WORDS.get(name)
    if words is not None and isinstance(value, str):
        return ", ".join(_(words[part]) if part in words else part for part in value.split(","))
    return value


def local_params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {name: local_value(name, value) for name, value in params.items()}


def template_of(error: BaseException) -> str | None:
    """The class's English template (the msgid), or None for an error of no known kind."""
    template = getattr(type(error), "template", None)
    return template if isinstance(template, str) else None


def error_text(error: BaseException) -> str:
    """The error in the cashier's language: its type's template, translated, with its
    parameters filled in."""
    template = template_of(error)
    if template is None:
        log.error("an error of no known kind reached the screen: %r", error)
        return _("Something went wrong; the till log has the details")
    translated = _(template)
    params = local_params(getattr(error, "params", {}) or {})
    try:
        return string.Formatter().vformat(translated, (), params)
    except (KeyError, IndexError, AttributeError, ValueError):
        log.exception("cannot fill in %r with %r", translated, params)
        return _("Something went wrong; the till log has the details")
