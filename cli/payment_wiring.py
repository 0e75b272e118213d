"""Builds the configured PIN terminal ([payment]) and attaches it to the till."""

from __future__ import annotations

from pathlib import Path

from contract.config import Config, ConfigError
from firmware.till import TillService


def build_terminal(config: Config, till: TillService) -> object | None:
    """kind none: nothing (Pin stays a typed reference). sim: a simulated terminal served on
    loopback for the till's lifetime (its key is a dev key under var/). adyen, adyen-cloud:
    the Adyen Terminal API with the secrets from their 0600 files."""
    p = config.payment
    if p.kind == "none":
        return None
    from drivers.payment.adyen import AdyenTerminal, SecretFileError, from_settings

    sale_id = p.sale_id or config.terminal.terminal
    if p.kind == "sim":
        from drivers.payment.crypto import SharedKey
        from drivers.payment.sim import SimTerminal

        key = SharedKey("kassa-sim", "kassa-sim-passphrase", 1)
        directory = Path(config.var_dir) / "terminal-sim"
        directory.mkdir(parents=True, exist_ok=True)
        sim = SimTerminal(key, directory=directory).start()
        terminal = AdyenTerminal(sim.url, sim.poiid, sale_id, key=key, ca_file=str(sim.cert_file),
                                 timeout=p.timeout_seconds)
        till.attach_terminal(terminal, sim.poiid, p.status_seconds)
        return sim
    try:
        terminal = from_settings("cloud" if p.kind == "adyen-cloud" else "local", p.url, p.poiid,
                                 sale_id, p.key_identifier, p.key_passphrase_file,
                                 p.key_version, p.api_key_file, p.timeout_seconds, p.ca_file)
    except SecretFileError as exc:
        key = "api_key_file" if p.kind == "adyen-cloud" else "key_passphrase_file"
        raise ConfigError(config.source, f"payment.{key}", str(exc)) from None
    except ValueError as exc:
        raise ConfigError(config.source, "payment.url", str(exc)) from None
    till.attach_terminal(terminal, p.poiid, p.status_seconds)
    return terminal
