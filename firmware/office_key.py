"""Head office's public key as a terminal pins it: the one key downstream seals are checked with.

The enrollment bundle installs it (`/etc/kassa/office_ed25519.pub`, 0644) and names it in
`[mqtt] office_public_key`. A till without it applies nothing from head office (see
docs/operations/downstream.md): there is no switch that accepts unsigned messages, since a
switch left on in a shop is the hole the seal closes. A named file that is missing or holds
no Ed25519 public key stops the uplink with a configuration error naming the key.
"""

from __future__ import annotations

from contract.config import ConfigError, MqttConfig
from contract.keys import JournalPublicKey, key_fingerprint, public_key_from_pem

KEY = "mqtt.office_public_key"
MAX_PEM = 4096  # bytes: a PEM public key is ~113


def pinned_office_key(mqtt: MqttConfig, source: str) -> JournalPublicKey | None:
    """The pinned key, None when the config names none; ConfigError when it names a file
    that cannot be used."""
    path = mqtt.office_public_key
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            pem = fh.read(MAX_PEM + 1)
    except FileNotFoundError:
        raise ConfigError(source, KEY, f"{path} does not exist: install it from the terminal's"
                          " enrollment bundle (office_ed25519.pub)") from None
    except OSError as exc:
        raise ConfigError(source, KEY, f"{path} cannot be read: {exc}") from None
    if len(pem) > MAX_PEM:
        raise ConfigError(source, KEY, f"{path} is larger than a public key file")
    try:
        return public_key_from_pem(pem)
    except ValueError as exc:
        raise ConfigError(source, KEY, f"{path}: {exc}") from None


def fingerprint(key: JournalPublicKey) -> str:
    """As head office prints its own (`kassa office public-key`)."""
    return key_fingerprint(key)
