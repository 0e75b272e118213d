"""The terminal registry: which terminals may send, for which store, with which public key.

Provisioning fills it (`add_terminal`, `revoke_terminal`); ingest reads it to verify each
entry's signature. Call headoffice.db.open_office_db(url) first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contract.wire import valid_id
from headoffice import signing
from headoffice.models import RegisteredTerminal, TerminalState
from headoffice.orm import write_transaction


class RegistryError(ValueError):
    """A registry change that was refused; the message says why."""


@dataclass(frozen=True)
class TerminalInfo:
    terminal_id: str
    store: str
    public_key: str
    status: str
    enrolled: str
    revoked: str | None
    online: bool
    last_seen: str
    acked_seq: int
    backlog: int | None
    problem: str

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the raw public key, grouped: what an accountant compares with the export."""
        return signing.fingerprint(self.public_key)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _check_key(public_key_hex: str) -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = public_key_hex.strip().lower()
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError:
        raise RegistryError("public key is not 32 bytes of hex (a raw Ed25519 key)") from None
    return text


def add_terminal(terminal_id: str, store: str, public_key_hex: str) -> TerminalInfo:
    """Enrolls a terminal. Repeating the same enrollment is harmless; a different key or store
    for an active terminal is refused (revoke it first). A revoked id can be enrolled again."""
    for name, value in (("terminal id", terminal_id), ("store", store)):
        if not valid_id(value):
            raise RegistryError(f"{name} {value!r} may only hold letters, digits, '-' and '_'"
                                " (1..64; it is an MQTT topic level)")
    key = _check_key(public_key_hex)
    with write_transaction():
        row = RegisteredTerminal.get_or_none(RegisteredTerminal.terminal_id == terminal_id)
        if row is not None and row.status == "active":
            if row.store == store and row.public_key == key:
                return _info(row)
            raise RegistryError(f"terminal {terminal_id!r} is already enrolled with another "
                                "store or key; revoke it first")
        RegisteredTerminal.insert(terminal_id=terminal_id, store=store, public_key=key, status="active",
                        enrolled=_now(), revoked=None).on_conflict(
            conflict_target=[RegisteredTerminal.terminal_id],
            update={RegisteredTerminal.store: store, RegisteredTerminal.public_key: key,
                    RegisteredTerminal.status: "active", RegisteredTerminal.enrolled: _now(),
                    RegisteredTerminal.revoked: None},
        ).execute()
    return _info(RegisteredTerminal.get(RegisteredTerminal.terminal_id == terminal_id))


def revoke_terminal(terminal_id: str) -> TerminalInfo:
    """Marks a terminal revoked: from now on its messages go to the dead-letter table."""
    with write_transaction():
        row = RegisteredTerminal.get_or_none(RegisteredTerminal.terminal_id == terminal_id)
        if row is None:
            raise RegistryError(f"terminal {terminal_id!r} is not enrolled")
        if row.status != "revoked":
            RegisteredTerminal.update(status="revoked", revoked=_now()).where(
                RegisteredTerminal.terminal_id == terminal_id).execute()
    return _info(RegisteredTerminal.get(RegisteredTerminal.terminal_id == terminal_id))


def list_terminals() -> list[TerminalInfo]:
    query = RegisteredTerminal.select().order_by(RegisteredTerminal.store,
                                                 RegisteredTerminal.terminal_id)
    return [_info(row) for row in query]


def _info(row: RegisteredTerminal) -> TerminalInfo:
    state = TerminalState.get_or_none(TerminalState.terminal == row.terminal_id)
    return TerminalInfo(
        terminal_id=row.terminal_id, store=row.store, public_key=row.public_key,
        status=row.status, enrolled=row.enrolled, revoked=row.revoked,
        online=bool(state and state.online), last_seen=state.last_seen if state else "",
        acked_seq=state.contiguous_seq if state else 0,
        backlog=state.backlog if state else None, problem=state.problem if state else "",
    )
