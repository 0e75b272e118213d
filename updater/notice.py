"""The newest release notice, as the uplink left it in the till database.

The uplink is the terminal's one MQTT client (the broker takes the certificate's name as
client id, so a second connection would throw the uplink off); it stores the sealed payload
from `kassa/v1/fleet/release` unchanged in a Meta row (updater/tillfacts.py). The updater checks the
seal itself with head office's pinned key: a notice the uplink stored is not trusted
because the uplink stored it.
"""

from __future__ import annotations

import json
from pathlib import Path

from contract import sealed
from contract.keys import PublicKey, public_key_from_hex
from contract.release_notice import KIND, NoticeError, ReleaseNotice, parse_notice


class OfficeKeyFileError(ValueError):
    """The pinned head-office key file cannot be used: `path`, `reason`."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"office key {path}: {reason}")
        self.path, self.reason = path, reason


def load_office_key(path: Path) -> PublicKey:
    """Head office's public key from a file holding its 64 hex digits."""
    try:
        text = path.read_text(encoding="ascii").strip()
        return public_key_from_hex(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise OfficeKeyFileError(path, f"cannot be read ({exc})") from None
    except ValueError as exc:
        raise OfficeKeyFileError(path, f"not an Ed25519 public key in hex ({exc})") from None


def open_notice(payload: bytes, office_key: PublicKey) -> ReleaseNotice:
    """Checks the seal and the body. Raises sealed.SealError or NoticeError."""
    unsealed = sealed.unseal(payload, office_key, KIND, sealed.FLEET)
    try:
        data = json.loads(unsealed.body)
    except ValueError as exc:
        raise NoticeError("(body)", f"not JSON ({exc})") from None
    return parse_notice(data)
