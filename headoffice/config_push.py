"""Head office's fleet config for the tills: checked as a till will check it, versioned one
above the last published, sealed and sent through `send_downstream`."""

from __future__ import annotations

import tomllib

from contract import downstream as bounds
from contract.config import ConfigError, parse_config
from contract.sealed import FLEET
from headoffice.broker import Publish
from headoffice.downstream_models import DownstreamPublished
from headoffice.downstream_send import send_downstream


class ConfigPushError(ValueError):
    """A config the tills would refuse; `reason` says why (file, key and rule)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source, self.reason = source, reason


def check(text: str, source: str) -> list[str]:
    """The sections the config sets; ConfigPushError when a till would refuse it."""
    if len(text) > bounds.MAX_CONFIG_TOML:
        raise ConfigPushError(source, f"{len(text)} characters (at most {bounds.MAX_CONFIG_TOML})")
    try:
        parse_config(text, source=source)
        sections = set(tomllib.loads(text))
    except ConfigError as exc:
        raise ConfigPushError(source, f"{exc.key}: {exc.reason}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigPushError(source, f"not valid TOML: {exc}") from None
    extra = sections - bounds.CONFIG_SECTIONS
    if extra:
        raise ConfigPushError(source, f"section(s) {', '.join(sorted(extra))} cannot be set from"
                              f" head office (only {', '.join(sorted(bounds.CONFIG_SECTIONS))})")
    return sorted(sections)


def next_version() -> int:
    row = DownstreamPublished.get_or_none(store=FLEET, sequence="config")
    return (row.version if row else 0) + 1


def push(send: Publish, text: str, source: str) -> int:
    """Publishes `text` as the fleet config's next version; returns that version."""
    check(text, source)
    version = next_version()
    send_downstream(send, "config", FLEET, {"version": version, "toml": text})
    return version
