"""The dashboard's page templates, shared by the app and the pages of the customer side."""

from __future__ import annotations

from pathlib import Path

from starlette.templating import Jinja2Templates

from contract.money import format_money

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["money"] = lambda cents: format_money(int(cents or 0))
