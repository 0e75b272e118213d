"""The terminal's Ed25519 journal key: loaded from provisioning, or a dev key made once.

The key is the journal's identity: head office checks every entry against the public key
enrolled for the terminal, and the chain at the till against the key that signed it. A key
that is gone is therefore never replaced silently: a new key is made only on the first
start of a terminal that is not enrolled and whose journal is still empty (a dev till).
"""

from __future__ import annotations

import os
from pathlib import Path

from contract.config import Config, ConfigError
from contract.keys import JournalKey

MAX_KEY_BYTES = 16 * 1024  # an Ed25519 PEM is 119 bytes


class SigningKeyError(Exception):
    """The journal key at `path` cannot be used; `reason` says why."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def load_key(path: str | os.PathLike[str]) -> JournalKey:
    """Loads the PEM private key at path. Raises SigningKeyError when it is missing, not a
    file, unreadable, too big, encrypted, not PEM or not Ed25519."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_BYTES + 1)
    except FileNotFoundError:
        raise SigningKeyError(path, "does not exist") from None
    except IsADirectoryError:
        raise SigningKeyError(path, "is a directory, not a key file") from None
    except OSError as exc:
        raise SigningKeyError(path, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_KEY_BYTES:
        raise SigningKeyError(path, f"is larger than {MAX_KEY_BYTES} bytes: not a key file")
    return _parse(data, path)


def _parse(data: bytes, path: Path) -> JournalKey:
    """The key in a PEM file's bytes; SigningKeyError saying what the bytes are instead."""
    try:
        return JournalKey.from_pem(data)
    except ValueError as exc:
        reason = str(exc)
        if "private key is encrypted" in reason:
            reason = "is encrypted; the journal key must be stored unencrypted (mode 0600)"
        elif reason == "not an Ed25519 private key":
            reason = "holds another kind of key, not an Ed25519 private key"
        else:
            reason = "is not a PEM private key"
        raise SigningKeyError(path, reason) from None
    except Exception:  # noqa: BLE001 - cryptography's UnsupportedAlgorithm and the like
        raise SigningKeyError(path, "is not a PEM private key") from None


def _new_key() -> tuple[JournalKey, bytes]:
    """A fresh key and its PKCS#8 PEM."""
    key = JournalKey.generate()
    return key, key.to_pem()


def create_key(path: str | os.PathLike[str]) -> JournalKey:
    """A new key written to path (mode 0600); never over an existing file. The key appears
    whole or not at all (written beside it, then linked in): a kill in between leaves no
    half-written key that a later start would refuse."""
    path = Path(path)
    key, pem = _new_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(staged, path)  # FileExistsError if a key appeared meanwhile: never replaced
    finally:
        staged.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return key


def load_or_create_key(path: str | os.PathLike[str], *, may_create: bool = True) -> JournalKey:
    """Loads the key at path; with may_create, makes a new one when there is no file at all
    (a dangling link or anything else at path is loaded, and refused, as it is)."""
    path = Path(path)
    if may_create and not path.exists() and not path.is_symlink():
        try:
            return create_key(path)
        except FileExistsError:  # another process made it a moment ago: use that one
            pass
    return load_key(path)


def journal_key(config: Config, journal_started: bool) -> JournalKey:
    """The terminal's journal key as its config names it. A dev key is made only on the first
    start of a terminal that is not enrolled (no client certificate in [mqtt]) and whose
    journal is empty; otherwise a missing or unusable key stops start-up with a
    ConfigError naming the config file and terminal.signing_key."""
    path = config.signing_key_path
    enrolled = bool(config.mqtt.cert_file)
    try:
        return load_or_create_key(path, may_create=not (enrolled or journal_started))
    except SigningKeyError as exc:
        reason = exc.reason
        if reason == "does not exist":
            why = ("the journal already holds entries signed with it" if journal_started
                   else "this terminal is enrolled with it")
            reason = (f"does not exist, and {why}: restore the key from its backup or the "
                      "enrollment bundle (a new key is never made in its place)")
        raise ConfigError(config.source, "terminal.signing_key", f"{exc.path} {reason}") from None
    except OSError as exc:  # the dev key could not be written
        raise ConfigError(config.source, "terminal.signing_key",
                          f"{path}: a dev key cannot be written there: {exc.strerror or exc}") from None
