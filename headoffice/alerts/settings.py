"""Alert thresholds and delivery targets ([alerts] of the office settings file)."""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

SETTINGS_ENV = "KASSA_OFFICE_SETTINGS"


class SettingsError(ValueError):
    """A bad office settings file; the message names the file, the key and the reason."""


@dataclass(frozen=True)
class AlertSettings:
    reversal_rate_percent: int = 10  # voids + refunds per 100 tickets of a cashier's shift
    reversal_min_count: int = 3  # below this many reversals no rate alert is raised
    cash_variance_tolerance: int = 500  # cents, either way
    opening_hours: str = "07:00-21:00"  # local shop time; sales outside raise an alert
    alert_no_sale: bool = True
    alert_price_override: bool = True
    # one alert per kind per terminal per window of this many minutes (clock-aligned, shop
    # time), with a count; 0 gives one alert per entry
    alert_window_minutes: int = 15
    # an alert each time a terminal's refused (dead-lettered) messages grow by this many
    dead_letter_alert_count: int = 100
    smtp_host: str = ""
    smtp_port: int = 25
    mail_from: str = "kassa@localhost"
    mail_to: tuple[str, ...] = ()
    webhook_url: str = ""
    # the owner's daily summary mail: sent once every active terminal has its Z of the day,
    # or at this local time whatever is missing; its links point at this address
    summary_cutoff: str = "23:30"
    summary_base_url: str = "http://localhost:8080"

    def cutoff(self) -> dt.time:
        try:
            return dt.time.fromisoformat(self.summary_cutoff.strip())
        except ValueError:
            raise SettingsError(f"alerts.summary_cutoff {self.summary_cutoff!r} is not HH:MM") from None

    def opening(self) -> tuple[dt.time, dt.time]:
        try:
            start, end = (dt.time.fromisoformat(p.strip()) for p in self.opening_hours.split("-"))
        except ValueError:
            raise SettingsError(f"alerts.opening_hours {self.opening_hours!r} is not HH:MM-HH:MM") from None
        return start, end


@dataclass(frozen=True)
class OfficeSettings:
    alerts: AlertSettings = field(default_factory=AlertSettings)
    accounts: dict[str, str] = field(default_factory=dict)
    company: dict[str, str] = field(default_factory=dict)
    secret_key: str = ""


def _build_alerts(table: dict[str, Any], source: str) -> AlertSettings:
    known = {f.name: f for f in fields(AlertSettings)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise SettingsError(f"{source}: alerts.{key}: unknown key")
        default = getattr(AlertSettings(), key)
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SettingsError(f"{source}: alerts.{key}: must be a list of strings")
            value = tuple(value)
        elif type(value) is not type(default):
            raise SettingsError(f"{source}: alerts.{key}: must be {type(default).__name__}")
        values[key] = value
    settings = AlertSettings(**values)
    if settings.alert_window_minutes < 0 or settings.alert_window_minutes > 24 * 60:
        raise SettingsError(f"{source}: alerts.alert_window_minutes: must be 0 to 1440")
    if settings.dead_letter_alert_count < 1:
        raise SettingsError(f"{source}: alerts.dead_letter_alert_count: must be at least 1")
    try:
        settings.opening()
        settings.cutoff()
    except SettingsError as exc:
        raise SettingsError(f"{source}: {exc}") from None
    return settings


def load_settings(path: str | os.PathLike[str] | None = None) -> OfficeSettings:
    """Reads the settings file (path, else $KASSA_OFFICE_SETTINGS, else defaults)."""
    path = path or os.environ.get(SETTINGS_ENV)
    if not path:
        return OfficeSettings()
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{source}: {exc}") from None
    unknown = set(data) - {"alerts", "accounts", "company", "web"}
    if unknown:
        raise SettingsError(f"{source}: unknown section(s) {sorted(unknown)}")
    for name in ("accounts", "company"):
        if not all(isinstance(v, str) for v in data.get(name, {}).values()):
            raise SettingsError(f"{source}: {name}: every value must be a string")
    return OfficeSettings(
        alerts=_build_alerts(data.get("alerts", {}), source),
        accounts=dict(data.get("accounts", {})),
        company=dict(data.get("company", {})),
        secret_key=str(data.get("web", {}).get("secret_key", "")),
    )


_current: OfficeSettings | None = None


def current() -> OfficeSettings:
    """The settings of this process (from $KASSA_OFFICE_SETTINGS), read once."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def use(settings: OfficeSettings) -> None:
    global _current
    _current = settings
