"""Terminal configuration: TOML (tomllib) into frozen dataclasses, refused loudly when wrong.

An unknown key, a value of the wrong type or an impossible value stops start-up with the
file, the dotted key and the reason, so a fleet admin can fix the file without guessing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import os
import re
import stat
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from contract.money import percent_to_bp
from contract.toml_shape import toml_shape_problem
from contract.wire import RESERVED_IDS, valid_id

DEFAULT_CONFIG_PATH = Path("/etc/kassa/kassa.toml")
MAX_CONFIG_CHARS = 256 * 1024  # a terminal config is a few kB; a fleet config message too
MAX_INT = 2**53 - 1  # any integer key: exact in JSON and far inside SQLite's 64 bits
MAX_STRING = 4096  # any string key (names, addresses, paths)
MAX_LIST = 100  # any list key (rates, denominations, layouts)
# C0 and C1 controls but tab and newline (ESC would reach the printer), DEL, line and
# paragraph separators and the bidirectional controls (they turn a receipt line around)
_BAD_CHAR = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e"
                       "\u2066-\u2069]")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_VAR_DIR = PROJECT_ROOT / "var"


class ConfigError(Exception):
    """A configuration problem, naming the file, the key and the reason."""

    def __init__(self, file: str | os.PathLike[str], key: str, reason: str) -> None:
        self.file, self.key, self.reason = str(file), key, reason
        super().__init__(f"{file}: {key}: {reason}")


class DemoIdentityError(ConfigError):
    """The shop's legal identity is still the demo one: a real till must not print it on
    receipts and Z reports. `keys` are the dotted keys still at their demo value."""

    def __init__(self, file: str | os.PathLike[str], keys: tuple[str, ...]) -> None:
        self.keys = keys
        super().__init__(file, keys[0],
                         f"{', '.join(keys)} still hold the demo shop identity; write the "
                         "shop's legal name, address, VAT and KvK number there (`kassa "
                         "provision enroll --stores FILE` does), or run with --demo or --sim")


class _ValueError(Exception):
    def __init__(self, key: str, reason: str) -> None:
        self.key, self.reason = key, reason
        super().__init__(f"{key}: {reason}")


def _check(condition: bool, key: str, reason: str) -> None:
    if not condition:
        raise _ValueError(key, reason)


def _key_name(name: str) -> str:
    """A TOML key as a message names it: bare when it is a plain word, else quoted and cut."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name) else _shown(name)


def _shown(value: object, limit: int = 40) -> str:
    """A value quoted for a message, cut short: a 10,000-character id is not echoed whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


# The shop's legal identity printed on receipts and Z reports when nothing else is set:
# fine for a demo or a simulation, refused by `kassa till` on a real terminal.
DEMO_SHOP_NAME = "Kassa Demo Winkel"
DEMO_ADDRESS = "Voorbeeldstraat 1, 1234 AB Utrecht"
DEMO_VAT_NUMBER = "NL000099998B57"
NL_VAT_FORMAT = re.compile(r"NL[0-9]{9}B[0-9]{2}")
KVK_FORMAT = re.compile(r"[0-9]{8}")


@dataclass(frozen=True)
class TerminalConfig:
    """The terminal's identity and, in shop_name/address/vat_number/kvk_number, the legal
    identity of the company that runs the shop (the receipt header)."""

    store: str = "dev-store"
    terminal: str = "dev-till-1"
    name: str = "Kassa 1"
    country: str = "NL"
    shop_name: str = DEMO_SHOP_NAME
    address: str = DEMO_ADDRESS
    vat_number: str = DEMO_VAT_NUMBER
    kvk_number: str = ""  # Kamer van Koophandel number, 8 digits (NL); empty: not printed
    signing_key: str = ""  # empty: var/keys/journal_ed25519.pem, a dev key made on first start
    pin_attempts: int = 3
    lockout_seconds: int = 60

    def validate(self) -> None:
        for key in ("store", "terminal"):
            value = getattr(self, key)
            _check(bool(value), key, "must not be empty")
            _check(valid_id(value), key, f"{_shown(value)} is not 1 to 64 ASCII letters, digits,"
                   " '-' and '_' (it is an MQTT topic level)")
            _check(value.lower() not in RESERVED_IDS, key, f"{value!r} is a word of the MQTT "
                   f"topics ({', '.join(sorted(RESERVED_IDS))}); choose another id")
        _check(self.country in ("NL", "BE"), "country", f"{self.country!r} is not NL or BE")
        _check(bool(self.shop_name.strip()), "shop_name", "must not be empty")
        _check(not (self.country == "NL" and not NL_VAT_FORMAT.fullmatch(self.vat_number)),
               "vat_number", f"{self.vat_number!r} is not a Dutch VAT number (NL, 9 digits, "
               "B, 2 digits: NL123456789B01)")
        _check(not self.kvk_number or bool(KVK_FORMAT.fullmatch(self.kvk_number)), "kvk_number",
               f"{self.kvk_number!r} is not a KvK number (8 digits)")
        _check(1 <= self.pin_attempts <= 20, "pin_attempts", "must be between 1 and 20")
        _check(0 <= self.lockout_seconds <= 86400, "lockout_seconds", "must be 0..86400")


def demo_identity_keys(terminal: TerminalConfig) -> tuple[str, ...]:
    """The dotted keys whose value is still the demo identity (a Dutch shop without a KvK
    number counts: the demo has none); empty when the identity is the shop's own."""
    keys = [f"terminal.{key}" for key, demo in (("shop_name", DEMO_SHOP_NAME),
                                                 ("address", DEMO_ADDRESS),
                                                 ("vat_number", DEMO_VAT_NUMBER))
            if getattr(terminal, key) == demo]
    if terminal.country == "NL" and not terminal.kvk_number:
        keys.append("terminal.kvk_number")
    return tuple(keys)


def require_own_identity(config: Config) -> None:
    """Raises DemoIdentityError when the config still carries the demo shop identity."""
    keys = demo_identity_keys(config.terminal)
    if keys:
        raise DemoIdentityError(config.source, keys)


@dataclass(frozen=True)
class DatabaseConfig:
    path: str = ""  # empty: var/kassa.sqlite3

    def validate(self) -> None:
        pass


@dataclass(frozen=True)
class DrawerConfig:
    kind: str = "sim"  # sim | gpio | printer | none
    pin: int = 17
    active_high: bool = True
    pulse_ms: int = 100
    sensor_pin: int = -1  # -1: no drawer-open sensor
    sensor_open_when_high: bool = True
    debounce_ms: int = 20
    open_alert_seconds: int = 60
    kick_pin: int = 2  # printer kind: ESC p connector pin 2 or 5
    open_in_training: bool = False  # false: training sales show the drawer opened on screen only

    def validate(self) -> None:
        _check(self.kind in ("sim", "gpio", "printer", "none"), "kind",
               f"{self.kind!r} is not one of sim, gpio, printer, none")
        _check(0 <= self.pin <= 53, "pin", f"{self.pin} is not a BCM GPIO number (0..53)")
        _check(10 <= self.pulse_ms <= 500, "pulse_ms",
               f"{self.pulse_ms} ms is outside 10..500 ms (a longer pulse burns the solenoid)")
        _check(self.sensor_pin == -1 or 0 <= self.sensor_pin <= 53, "sensor_pin",
               f"{self.sensor_pin} is not -1 or a BCM GPIO number")
        _check(self.sensor_pin != self.pin, "sensor_pin", "must differ from pin")
        _check(0 <= self.debounce_ms <= 1000, "debounce_ms", "must be 0..1000")
        _check(1 <= self.open_alert_seconds <= 3600, "open_alert_seconds", "must be 1..3600")
        _check(self.kick_pin in (2, 5), "kick_pin", f"{self.kick_pin} is not 2 or 5")


@dataclass(frozen=True)
class VariableMeasure:
    """A GS1 in-store (prefix 20-29) layout: PP IIIII VVVVV C, price or weight embedded."""

    prefix: str = "21"
    kind: str = "price"  # price (cents) | weight (grams)
    item_digits: int = 5
    value_digits: int = 5

    def validate(self) -> None:
        _check(len(self.prefix) == 2 and self.prefix.isdigit() and 20 <= int(self.prefix) <= 29,
               "prefix", f"{self.prefix!r} is not a GS1 in-store prefix 20..29")
        _check(self.kind in ("price", "weight"), "kind", f"{self.kind!r} is not price or weight")
        _check(1 <= self.item_digits <= 6, "item_digits", "must be 1..6")
        _check(2 <= self.value_digits <= 6, "value_digits", "must be 2..6")
        _check(2 + self.item_digits + self.value_digits <= 12, "value_digits",
               "prefix, item and value digits exceed the 12 data digits of an EAN-13")


def _is_key_name(value: str) -> bool:
    """An evdev key name (checked against evdev itself by the driver, which may import it)."""
    return value.startswith("KEY_") and len(value) > 4 and all(
        c.isupper() or c.isdigit() or c == "_" for c in value[4:])


@dataclass(frozen=True)
class ScannerConfig:
    kind: str = "sim"  # sim | evdev | none
    path: str = ""  # /dev/input/by-id/...
    name: str = ""
    vendor_id: int = 0
    product_id: int = 0
    layout: str = "us"
    suffix_key: str = "KEY_ENTER"  # evdev key name ending a code (Enter always does too)
    gs_key: str = "KEY_F8"  # key the scanner sends for GS (0x1d, GS1); Ctrl+] always works
    timeout_ms: int = 200
    loyalty_prefix: str = ""
    variable_measure: tuple[VariableMeasure, ...] = (
        VariableMeasure(prefix="21", kind="price"),
        VariableMeasure(prefix="22", kind="weight"),
    )

    def validate(self) -> None:
        _check(self.kind in ("sim", "evdev", "none"), "kind",
               f"{self.kind!r} is not one of sim, evdev, none")
        _check(self.layout in ("us", "de", "fr", "be", "nl"), "layout",
               f"{self.layout!r} is not a known keyboard layout (us, de, fr, be, nl)")
        _check(10 <= self.timeout_ms <= 5000, "timeout_ms", "must be 10..5000")
        _check(0 <= self.vendor_id <= 0xFFFF, "vendor_id", "must be 0..0xFFFF")
        _check(0 <= self.product_id <= 0xFFFF, "product_id", "must be 0..0xFFFF")
        for key in ("suffix_key", "gs_key"):
            value = getattr(self, key)
            _check((key == "gs_key" and not value) or _is_key_name(value), key,
                   f"{value!r} is not an evdev key name such as KEY_ENTER or KEY_F8")
        _check(not (self.kind == "evdev" and not (self.path or self.name or self.vendor_id)),
               "path", "an evdev scanner needs path (/dev/input/by-id/...), name or vendor_id")
        prefixes = [v.prefix for v in self.variable_measure]
        _check(len(prefixes) == len(set(prefixes)), "variable_measure", "prefix given twice")


@dataclass(frozen=True)
class PrinterConfig:
    kind: str = "sim"  # sim | usb | network | file | dummy | none
    vendor_id: int = 0
    product_id: int = 0
    profile: str = "TM-T88III"
    host: str = ""
    port: int = 9100
    device: str = "/dev/usb/lp0"
    columns: int = 42
    timeout_seconds: int = 5
    code_page: str = ""  # empty: the profile's first of CP858, CP1252, ISO_8859-15, CP850, CP437

    def validate(self) -> None:
        _check(self.kind in ("sim", "usb", "network", "file", "dummy", "none"), "kind",
               f"{self.kind!r} is not one of sim, usb, network, file, dummy, none")
        _check(not (self.kind == "usb" and not (self.vendor_id and self.product_id)),
               "vendor_id", "a USB printer needs vendor_id and product_id (see `lsusb`)")
        _check(0 <= self.vendor_id <= 0xFFFF and 0 <= self.product_id <= 0xFFFF, "vendor_id",
               "vendor_id and product_id must be 0..0xFFFF")
        _check(self.columns in (32, 42, 48), "columns", f"{self.columns} is not 32, 42 or 48")
        _check(1 <= self.port <= 65535, "port", "must be 1..65535")
        _check(not (self.kind == "network" and not self.host), "host",
               "required for a network printer")
        _check(1 <= self.timeout_seconds <= 120, "timeout_seconds", "must be 1..120")


@dataclass(frozen=True)
class MqttConfig:
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 1883
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive: int = 30
    inflight: int = 100  # publishes awaiting the broker's PUBACK
    window: int = 5000  # entries sent ahead of head office's ack
    resend_seconds: int = 10  # no ack progress for this long: send again from the ack
    backoff_max_seconds: int = 30
    # head office's Ed25519 public key (PEM), pinned by the enrollment bundle: every
    # downstream message must carry its seal (contract/sealed.py); without it none applies
    office_public_key: str = ""

    def validate(self) -> None:
        _check(1 <= self.port <= 65535, "port", "must be 1..65535")
        _check(5 <= self.keepalive <= 3600, "keepalive", "must be 5..3600")
        _check(1 <= self.inflight <= 65535, "inflight", "must be 1..65535")
        _check(1 <= self.window <= 1_000_000, "window", "must be 1..1000000")
        _check(1 <= self.resend_seconds <= 3600, "resend_seconds", "must be 1..3600")
        _check(1 <= self.backoff_max_seconds <= 3600, "backoff_max_seconds", "must be 1..3600")
        _check(bool(self.cert_file) == bool(self.key_file), "cert_file",
               "cert_file and key_file go together")


@dataclass(frozen=True)
class UiConfig:
    language: str = "nl"
    fullscreen: bool = True
    width: int = 800
    height: int = 480
    show_cursor: bool = False

    def validate(self) -> None:
        _check(self.language in ("nl", "en"), "language", f"{self.language!r} is not nl or en")
        _check(320 <= self.width <= 7680, "width", "must be 320..7680")
        _check(240 <= self.height <= 4320, "height", "must be 240..4320")


@dataclass(frozen=True)
class VatRate:
    code: str
    percent: str
    valid_from: dt.date = dt.date(2000, 1, 1)

    @property
    def bp(self) -> int:
        return percent_to_bp(self.percent)

    def validate(self) -> None:
        _check(self.code in VAT_CODES, "code", f"{self.code!r} is not one of {', '.join(VAT_CODES)}")
        try:
            bp = self.bp
        except (ValueError, ArithmeticError) as exc:
            raise _ValueError("percent", f"{self.percent!r} is not a percentage: {exc}") from None
        _check(0 <= bp < 10000, "percent", f"{self.percent}% is not a VAT rate (0 <= rate < 100)")
        _check(self.code not in ("zero", "exempt") or bp == 0, "percent",
               f"code {self.code!r} must have rate 0")


VAT_CODES = ("high", "low", "zero", "exempt")

NL_RATES = (
    VatRate("high", "21", dt.date(2012, 10, 1)),
    VatRate("low", "9", dt.date(2019, 1, 1)),
    VatRate("zero", "0"),
    VatRate("exempt", "0"),
)


@dataclass(frozen=True)
class TaxConfig:
    rates: tuple[VatRate, ...] = NL_RATES

    def validate(self) -> None:
        for code in ("high", "low", "zero", "exempt"):
            _check(any(r.code == code for r in self.rates), "rates", f"no rate for code {code!r}")
        seen = {(r.code, r.valid_from) for r in self.rates}
        _check(len(seen) == len(self.rates), "rates", "a code has two rates from the same date")

    def rate_bp(self, code: str, on: dt.date) -> int:
        """The rate for a VAT code in force on a date (rates change by law)."""
        return _rate_in_force(self.rates, code, on)


@functools.lru_cache(maxsize=256)
def _rate_in_force(rates: tuple[VatRate, ...], code: str, on: dt.date) -> int:
    """Cached: it is asked for every line of every ticket, and rates are immutable config."""
    candidates = [r for r in rates if r.code == code and r.valid_from <= on]
    if not candidates:
        raise KeyError(f"no VAT rate for code {code!r} on {on.isoformat()}")
    return max(candidates, key=lambda r: r.valid_from).bp


MAX_CASH_CENTS = 100_000_000  # one million euro: far above any till's float or tolerance


@dataclass(frozen=True)
class CashConfig:
    round_to_5_cents: bool = True
    discount_limit_percent: int = 10
    default_float_cents: int = 10000
    quick_amounts_cents: tuple[int, ...] = (500, 1000, 2000, 5000)
    denominations_cents: tuple[int, ...] = (
        50000, 20000, 10000, 5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1,
    )
    variance_tolerance_cents: int = 500

    def validate(self) -> None:
        _check(0 <= self.discount_limit_percent <= 100, "discount_limit_percent", "must be 0..100")
        _check(0 <= self.default_float_cents <= MAX_CASH_CENTS, "default_float_cents",
               f"must be 0..{MAX_CASH_CENTS}")
        _check(all(0 < a <= MAX_CASH_CENTS for a in self.quick_amounts_cents),
               "quick_amounts_cents", f"amounts must be positive and at most {MAX_CASH_CENTS}")
        _check(all(0 < d <= MAX_CASH_CENTS for d in self.denominations_cents),
               "denominations_cents", f"denominations must be positive and at most {MAX_CASH_CENTS}")
        _check(0 <= self.variance_tolerance_cents <= MAX_CASH_CENTS, "variance_tolerance_cents",
               f"must be 0..{MAX_CASH_CENTS}")


PAYMENT_KINDS = ("none", "sim", "adyen", "adyen-cloud")
MERCHANT_COPY = ("ask", "always", "never")


@dataclass(frozen=True)
class PaymentConfig:
    """The PIN terminal (Adyen Terminal API). kind none: the cashier types the terminal's
    reference as before. Secrets are files from the bundle, mode 0600, never the value."""

    kind: str = "none"  # none | sim | adyen (local /nexo) | adyen-cloud
    url: str = ""  # adyen: https://<terminal ip>:8443/nexo; adyen-cloud: empty = Adyen test
    poiid: str = ""  # the terminal's id, e.g. P400Plus-123456789
    sale_id: str = ""  # empty: the terminal id of [terminal]
    key_identifier: str = ""
    key_passphrase_file: str = ""
    key_version: int = 1
    api_key_file: str = ""  # adyen-cloud
    ca_file: str = ""  # the terminal's CA (Adyen's terminal root), checked when given
    timeout_seconds: int = 150  # the shopper's time at the terminal, then ask for the status
    status_seconds: int = 60  # how long the till keeps asking for an unknown outcome
    merchant_copy: str = "ask"  # the terminal's merchant receipt: ask | always | never

    def validate(self) -> None:
        _check(self.merchant_copy in MERCHANT_COPY, "merchant_copy",
               f"{self.merchant_copy!r} is not one of {', '.join(MERCHANT_COPY)}")
        _check(self.kind in PAYMENT_KINDS, "kind",
               f"{self.kind!r} is not one of {', '.join(PAYMENT_KINDS)}")
        _check(not self.url or self.url.startswith("https://"), "url",
               f"{_shown(self.url)} is not an https:// address")
        _check(not (self.kind == "adyen" and not self.url), "url",
               "a local terminal needs its address (https://<ip>:8443/nexo)")
        _check(not (self.kind.startswith("adyen") and not self.poiid), "poiid",
               "the terminal's POIID is needed (shown on the terminal, e.g. P400Plus-123456789)")
        _check(not (self.kind == "adyen" and not (self.key_identifier
                                                  and self.key_passphrase_file)),
               "key_passphrase_file", "a local terminal needs key_identifier and "
               "key_passphrase_file (the shared key set on the terminal)")
        _check(not (self.kind == "adyen-cloud" and not self.api_key_file), "api_key_file",
               "the cloud endpoint needs api_key_file")
        _check(1 <= self.key_version <= 1000, "key_version", "must be 1..1000")
        _check(not self.sale_id or valid_id(self.sale_id), "sale_id",
               "must be 1 to 64 ASCII letters, digits, '-' and '_'")
        _check(10 <= self.timeout_seconds <= 600, "timeout_seconds", "must be 10..600")
        _check(5 <= self.status_seconds <= 3600, "status_seconds", "must be 5..3600")


HOURS_FORMAT = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]")


@dataclass(frozen=True)
class UpdateConfig:
    """`kassa update`, the terminal's updater: where releases live, whom it trusts, when it
    may stop the till. It installs only while no ticket is open and, when `opening_hours` is
    set, outside those hours or within `after_z_minutes` of a Z close."""

    enabled: bool = False
    server: str = ""  # head office's release server, https://host:port (mutual TLS)
    root: str = "/opt/kassa"  # releases/<version>/ slots and the current, previous, committed links
    state_dir: str = ""  # empty: <var>/update
    office_key: str = ""  # head office's Ed25519 public key (hex file): the notice's seal
    release_key: str = ""  # the fleet release key's public half: the artifact's manifest
    arch: str = ""  # empty: this machine's (platform.machine())
    ca_file: str = ""  # TLS to the release server; empty: the [mqtt] files (the same trust)
    cert_file: str = ""
    key_file: str = ""
    opening_hours: str = ""  # "08:00-18:00" local time; empty: any time the till is idle
    after_z_minutes: int = 60
    health_seconds: int = 120  # the new version proves healthy within this, or goes back
    poll_seconds: int = 5
    max_attempts: int = 3  # of one version, before the updater reports it failed for good

    def validate(self) -> None:
        _check(not self.server or self.server.startswith("https://"), "server",
               f"{_shown(self.server)} is not an https:// address")
        _check(not self.enabled or bool(self.server), "server", "required when enabled")
        _check(not self.enabled or bool(self.office_key and self.release_key), "office_key",
               "office_key and release_key are required when enabled")
        _check(not self.opening_hours or bool(HOURS_FORMAT.fullmatch(self.opening_hours)),
               "opening_hours", f"{_shown(self.opening_hours)} is not HH:MM-HH:MM")
        _check(bool(self.cert_file) == bool(self.key_file), "cert_file",
               "cert_file and key_file go together")
        _check(0 <= self.after_z_minutes <= 1440, "after_z_minutes", "must be 0..1440")
        _check(5 <= self.health_seconds <= 3600, "health_seconds", "must be 5..3600")
        _check(1 <= self.poll_seconds <= 3600, "poll_seconds", "must be 1..3600")
        _check(1 <= self.max_attempts <= 20, "max_attempts", "must be 1..20")


@dataclass(frozen=True)
class Config:
    terminal: TerminalConfig = field(default_factory=TerminalConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    drawer: DrawerConfig = field(default_factory=DrawerConfig)
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    tax: TaxConfig = field(default_factory=TaxConfig)
    cash: CashConfig = field(default_factory=CashConfig)
    payment: PaymentConfig = field(default_factory=PaymentConfig)
    update: UpdateConfig = field(default_factory=UpdateConfig)
    source: str = "<defaults>"
    var_dir: str = str(DEV_VAR_DIR)

    @property
    def database_path(self) -> Path:
        return Path(self.database.path) if self.database.path else Path(self.var_dir) / "kassa.sqlite3"

    @property
    def signing_key_path(self) -> Path:
        if self.terminal.signing_key:
            return Path(self.terminal.signing_key)
        return Path(self.var_dir) / "keys" / "journal_ed25519.pem"

    @property
    def update_state_dir(self) -> Path:
        return Path(self.update.state_dir) if self.update.state_dir else Path(self.var_dir) / "update"


_SECTIONS = {f.name: f.type for f in dataclasses.fields(Config) if f.name not in ("source", "var_dir")}


def _coerce(value: object, tp: object, key: str) -> object:
    """Checks a TOML value against a dataclass field type and converts lists to tuples."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        for arg in args:
            try:
                return _coerce(value, arg, key)
            except _ValueError:
                continue
        raise _ValueError(key, f"{value!r} has the wrong type")
    if origin is tuple:
        (item_type, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise _ValueError(key, f"expected a list, got {type(value).__name__}")
        if len(value) > MAX_LIST:
            raise _ValueError(key, f"{len(value)} items, at most {MAX_LIST}")
        return tuple(_coerce(v, item_type, f"{key}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise _ValueError(key, f"expected a table, got {type(value).__name__}")
        return _build(tp, value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise _ValueError(key, f"expected true or false, got {_shown(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _ValueError(key, f"expected an integer, got {_shown(value)}")
        if abs(value) > MAX_INT:
            raise _ValueError(key, f"{_shown(value)} is out of range (at most ±{MAX_INT})")
        return value
    if tp is str:
        return _string(value, key)
    if tp is dt.date:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise _ValueError(key, f"expected a date (YYYY-MM-DD), got {_shown(value)}")
        return value
    raise _ValueError(key, f"unsupported type {tp!r}")


def _string(value: object, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _ValueError(key, f"expected a string, got {_shown(value)}")
    if isinstance(value, float):
        raise _ValueError(key, f"write {value!r} as a string (\"{value}\") to keep it exact")
    text = str(value)
    if len(text) > MAX_STRING:
        raise _ValueError(key, f"{len(text)} characters, at most {MAX_STRING}")
    bad = _BAD_CHAR.search(text)
    if bad:
        raise _ValueError(key, f"control character U+{ord(bad.group()):04X} is not allowed"
                          " (it would reach receipts, topics or paths)")
    return text


def _build(cls: type, table: dict[str, object], prefix: str) -> object:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    kwargs: dict[str, object] = {}
    for name, value in table.items():
        key = f"{prefix}.{_key_name(name)}" if prefix else _key_name(name)
        if name not in names:
            raise _ValueError(key, f"unknown key (known: {', '.join(sorted(names))})")
        kwargs[name] = _coerce(value, hints[name], key)
    try:
        obj = cls(**kwargs)
    except TypeError as exc:
        raise _ValueError(prefix, f"missing key: {exc}") from None
    validate = getattr(obj, "validate", None)
    if validate is not None:
        try:
            validate()
        except _ValueError as exc:
            raise _ValueError(f"{prefix}.{exc.key}" if prefix else exc.key, exc.reason) from None
    return obj


def parse_config(text: str, source: str = "<string>", var_dir: str | None = None) -> Config:
    """Parses TOML text; raises ConfigError naming source, key and reason."""
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigError(source, "(file)", f"{len(text)} characters; a terminal config is a "
                          f"few kB (at most {MAX_CONFIG_CHARS})")
    shape = toml_shape_problem(text)
    if shape:
        raise ConfigError(source, *shape)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "(syntax)", f"not valid TOML: {exc}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(source, "(syntax)", "nested too deeply to read") from None
    sections: dict[str, object] = {}
    for name, table in data.items():
        if name not in _SECTIONS:
            raise ConfigError(source, _key_name(name),
                              f"unknown section (known: {', '.join(_SECTIONS)})")
        try:
            sections[name] = _coerce(table, typing.get_type_hints(Config)[name], name)
        except _ValueError as exc:
            raise ConfigError(source, exc.key, exc.reason) from None
    extra = {"var_dir": var_dir} if var_dir else {}
    return Config(**sections, source=source, **extra)  # type: ignore[arg-type]


def config_path_from_env(explicit: str | None = None) -> Path | None:
    """The config file to read: --config, then KASSA_CONFIG, then /etc/kassa/kassa.toml."""
    if explicit:
        return Path(explicit)
    if os.environ.get("KASSA_CONFIG"):
        return Path(os.environ["KASSA_CONFIG"])
    if DEFAULT_CONFIG_PATH.exists():
        return DEFAULT_CONFIG_PATH
    return None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Reads the terminal's config; with no file at all, the embedded dev defaults under var/."""
    resolved = config_path_from_env(str(path) if path else None)
    if resolved is None:
        return Config()
    try:
        info = resolved.stat()
        if resolved.is_dir():
            raise ConfigError(resolved, "(file)", "cannot be read: it is a directory")
        if not stat.S_ISREG(info.st_mode):  # /dev/zero or a pipe would never end
            raise ConfigError(resolved, "(file)", "cannot be read: not a regular file")
        if info.st_size > MAX_CONFIG_CHARS * 4:
            raise ConfigError(resolved, "(file)", f"{info.st_size} bytes; a terminal config is "
                              "a few kB")
        text = resolved.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(resolved, "(file)", "does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(resolved, "(file)", f"cannot be read: {exc}") from None
    var_dir = os.environ.get("KASSA_VAR_DIR") or str(resolved.parent / "var")
    if resolved == DEFAULT_CONFIG_PATH:
        var_dir = os.environ.get("KASSA_VAR_DIR") or "/var/lib/kassa"
    return parse_config(text, str(resolved), var_dir=var_dir)
