"""The dashboard's page templates, shared by the app and the pages of the customer side."""

from __future__ import annotations

from pathlib import Path

from babel.numbers import format_currency, format_decimal
from starlette.templating import Jinja2Templates

from contract.money import CURRENCY, DEFAULT_LOCALE, format_money
from headoffice.alerts.texts import local_time
from headoffice.web.i18n import date_nl, device_state, update_word

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["money"] = lambda cents: format_money(int(cents or 0))


def whole_euros(euros: int) -> str:
    """`€ 1.250`: the whole euros of the VAT return, grouped as money is (Babel, nl)."""
    return format_currency(int(euros or 0), CURRENCY, format="¤\xa0#,##0;¤\xa0-#,##0",
                           locale=DEFAULT_LOCALE, currency_digits=False)


templates.env.filters["whole_euros"] = whole_euros
templates.env.filters["aantal"] = lambda n: format_decimal(int(n or 0), locale=DEFAULT_LOCALE)  # 32.880
templates.env.filters["datum"] = date_nl  # 02-12-2026
templates.env.filters["tijd"] = local_time  # 02-12-2026 14:03:05, Europe/Amsterdam
templates.env.filters["apparaat"] = device_state  # a device state's Dutch name
templates.env.filters["bijwerken"] = update_word  # a rollout state or update step, Dutch
