"""Head office's config taken into the running till: live where that is safe, else at restart.

The uplink stores the newest sealed fleet config it applied (Meta `remote_config_toml` and
`remote_config_version`, firmware/uplink/downstream.py); it may set the `ui`, `tax` and
`cash` sections only. The till overlays it on its own file's config: every key the remote
TOML sets replaces the file's value, a key it leaves out keeps the file's value (so the
next config from head office replaces the previous one as a whole, it does not add to it).

- at start (`start_till`) the whole overlay is taken, restart keys included (`ui_at_start`
  gives `kassa till` the window settings before Kivy is set up);
- while the till runs (`RemoteConfig.poll`, from the runtime's status refresh) a newer
  version is taken in under the kernel's lock, between two operations: VAT rates, the cash
  settings and the language of receipts apply at once; the window keys (`RESTART_KEYS`)
  keep their running value and are listed as waiting for a restart, in the till's status
  and in `status` to head office.
Each version taken in for the first time is one `config_change` journal entry naming the
keys, their old and new values, and whether each applied now or waits for a restart.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tomllib
from dataclasses import dataclass
from typing import Any

from contract.config import Config, ConfigError, UiConfig, parse_config
from firmware.kernel import TillKernel
from firmware.models import Meta
from firmware.uplink.downstream import CONFIG_TOML, CONFIG_VERSION, TILL_CONFIG, config_live

log = logging.getLogger(__name__)

RESTART_KEYS = frozenset({"ui.fullscreen", "ui.width", "ui.height", "ui.show_cursor"})
SOURCE_LIMIT = 4000  # characters of the change list in the journal entry (schema: 4096)


class RemoteConfigError(ValueError):
    """The stored remote config cannot be taken in (it passed the uplink's check, so this is a
    conflict with the terminal's own file); `version` and `reason` say which and why."""

    def __init__(self, version: int, reason: str) -> None:
        super().__init__(f"head-office config v{version}: {reason}")
        self.version, self.reason = version, reason


@dataclass(frozen=True)
class Change:
    key: str  # section.key
    old: Any
    new: Any

    @property
    def live(self) -> bool:
        return self.key not in RESTART_KEYS


def overlay(base: Config, text: str, version: int) -> Config:
    """`base` with every key the remote TOML sets."""
    try:
        remote = parse_config(text, source=f"head-office config v{version}")
        tables = tomllib.loads(text)
    except (ConfigError, tomllib.TOMLDecodeError) as exc:
        raise RemoteConfigError(version, str(exc)) from None
    sections: dict[str, Any] = {}
    for section, table in tables.items():
        current, wanted = getattr(base, section), getattr(remote, section)
        values = {key: getattr(wanted, key) for key in table}
        merged = dataclasses.replace(current, **values)
        try:
            merged.validate()
        except Exception as exc:  # contract's checks name the key
            raise RemoteConfigError(version, f"{section}: {exc}") from None
        sections[section] = merged
    return dataclasses.replace(base, **sections)


def stored() -> tuple[int, str] | None:
    """(version, TOML) of the remote config the uplink applied, or None."""
    rows = {row.key: row.value for row in Meta.select().where(
        Meta.key.in_([CONFIG_VERSION, CONFIG_TOML]))}
    try:
        version = int(rows.get(CONFIG_VERSION, "0"))
    except ValueError:
        return None
    if version <= 0 or CONFIG_TOML not in rows:
        return None
    return version, rows[CONFIG_TOML]


def ui_at_start(config: Config) -> UiConfig:
    """The window settings a starting till uses: its file's, with head office's on top (read
    before the till service exists, so `kassa till` can set up Kivy with them)."""
    found = stored()
    if found is None:
        return config.ui
    try:
        return overlay(config, found[1], found[0]).ui
    except RemoteConfigError as exc:
        log.error("%s; the file's window settings are used", exc)
        return config.ui


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if dataclasses.is_dataclass(value):
        return "{" + ", ".join(f"{k}={_shown(v)}" for k, v in dataclasses.asdict(value).items()) + "}"
    return str(value)


def describe(changes: list[Change]) -> str:
    """`cash.discount_limit_percent: 10 -> 20; ui.width: 800 -> 1280 (restart)`."""
    text = "; ".join(f"{c.key}: {_shown(c.old)} -> {_shown(c.new)}"
                     + ("" if c.live else " (restart)") for c in changes)
    return text if len(text) <= SOURCE_LIMIT else text[:SOURCE_LIMIT - 3] + "..."


class RemoteConfig:
    """Keeps the till's config in step with head office's. `base` is the terminal's own
    config (its file): the overlay is always computed on it, never on an earlier overlay."""

    def __init__(self, kernel: TillKernel) -> None:
        self.kernel = kernel
        self.base = kernel.config
        self.version = 0  # the remote version the running till has taken in
        self.restart: tuple[str, ...] = ()  # keys that wait for a restart
        self.problem = ""  # why the stored version could not be taken in, or ""

    def start(self) -> bool:
        """At start: the whole overlay, restart keys included (nothing is drawn yet)."""
        return self._take(starting=True)

    def poll(self) -> bool:
        """Takes in a newer stored version; True when one was taken in."""
        return self._take(starting=False)

    def _take(self, starting: bool) -> bool:
        kernel = self.kernel
        if kernel.journal_alarm:  # nothing is journaled until a manager acknowledges it
            return False
        found = stored()
        if found is None or found[0] <= self.version:
            return False
        version, text = found
        with kernel.lock:
            running = kernel.config
            try:
                wanted = overlay(self.base, text, version)
            except RemoteConfigError as exc:
                self.version, self.problem = version, exc.reason
                log.error("%s; the till keeps its running config", exc)
                return False
            changes = _diff(running, wanted)
            if starting:
                new, restart = wanted, ()
            else:
                new = _with_keys(running, wanted, [c.key for c in changes if c.live])
                restart = tuple(c.key for c in changes if not c.live)
            journaled = config_live()["version"]
            with kernel.atomic("config_change"):
                if version > journaled:
                    kernel.journal.append("config_change", {
                        "what": "head-office config", "version": str(version),
                        "source": describe(changes) or "no change for this till"})
                Meta.insert(key=TILL_CONFIG, value=json.dumps(
                    {"version": version, "restart": list(restart)})).on_conflict_replace().execute()
            kernel.config = new
            if new.ui.language != running.ui.language:
                kernel.language = new.ui.language
        self.version, self.restart, self.problem = version, restart, ""
        if changes:
            log.info("head-office config v%s taken in: %s", version, describe(changes))
            kernel.emit("config_changed", version=version,
                        keys=[c.key for c in changes], restart=list(restart))
        return True


def _diff(running: Config, wanted: Config) -> list[Change]:
    """The keys of the remotely settable sections whose running value differs."""
    out = []
    for section in ("ui", "tax", "cash"):
        old, new = getattr(running, section), getattr(wanted, section)
        for field in dataclasses.fields(old):
            a, b = getattr(old, field.name), getattr(new, field.name)
            if a != b:
                out.append(Change(f"{section}.{field.name}", a, b))
    return out


def _with_keys(running: Config, wanted: Config, keys: list[str]) -> Config:
    """`running` with the listed section.key values taken from `wanted`."""
    by_section: dict[str, dict[str, Any]] = {}
    for key in keys:
        section, name = key.split(".", 1)
        by_section.setdefault(section, {})[name] = getattr(getattr(wanted, section), name)
    return dataclasses.replace(running, **{
        section: dataclasses.replace(getattr(running, section), **values)
        for section, values in by_section.items()})
