"""Builds the configured PIN terminal ([payment]) and attaches it to the till."""

from __future__ import annotations

from collections.abc import Callable
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


def check_terminal(config: Config, out: Callable[[str], None]) -> int:
    """`kassa doctor`: asks the terminal for the status of a payment that was never made (a
    TransactionStatus; nothing is charged). "not found" proves the address, the TLS link and
    the shared key; returns the number of failures (0 or 1)."""
    p = config.payment
    if p.kind == "none":
        out("  terminal: none configured (Pin: the cashier types the terminal's reference)")
        return 0
    holder: list[object] = []

    class _Collect:  # build_terminal attaches to a till; the doctor only needs the driver
        def attach_terminal(self, terminal: object, *_args: object) -> None:
            holder.append(terminal)

    try:
        sim = build_terminal(config, _Collect())  # type: ignore[arg-type]
    except ConfigError as exc:
        out(f"  terminal: FAILED to set up: {exc}")
        return 1
    terminal = holder[0]
    from drivers.payment.adyen import new_service_id
    from drivers.payment.nexo import MessageError

    try:
        outcome = terminal.status(new_service_id())  # type: ignore[attr-defined]
    except (OSError, MessageError) as exc:
        out(f"  terminal: FAILED: {exc}")
        return 1
    finally:
        terminal.close()  # type: ignore[attr-defined]
        if sim is not terminal and hasattr(sim, "stop"):
            sim.stop()
    if outcome["result"] != "not_found":
        out(f"  terminal: FAILED: a status request for an unknown payment answered "
            f"{outcome['result']!r}, not 'not found'")
        return 1
    out(f"  terminal: {p.kind} {p.poiid or ''} answers with the shared key "
        "(status of an unknown payment: not found)".replace("  (", " ("))
    return 0
