"""Fetches an artifact from head office's release server over mutual TLS, resumably.

The terminal presents the certificate it uses for MQTT and trusts the same CA, so the release
server knows which terminal asks and the terminal knows it talks to head office. A download
cut off (power, network) continues from the bytes already on disk (HTTP Range); the file is
renamed into place only once its SHA-256 is the notice's.
"""

from __future__ import annotations

import hashlib
import json
import os
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK = 256 * 1024


class FetchError(Exception):
    """The artifact could not be fetched (`url`, `reason`); the next round tries again."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason = url, reason


class HashMismatch(FetchError):
    """The whole artifact arrived but its SHA-256 is not the notice's; it was deleted."""


@dataclass(frozen=True)
class Tls:
    ca_file: str
    cert_file: str
    key_file: str

    def context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_file or None)
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def fetch(server: str, path: str, sha256: str, size: int, dest: Path, tls: Tls,
          progress: Callable[[int], None] = lambda done: None, timeout: float = 30) -> Path:
    """Downloads server+path to `dest` (via dest.part) and checks its hash; returns dest."""
    url = server.rstrip("/") + path
    if dest.exists():
        return dest
    part = dest.with_name(dest.name + ".part")
    done = part.stat().st_size if part.exists() else 0
    if done > size:
        part.unlink()
        done = 0
    if done < size:
        request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
        try:
            with urllib.request.urlopen(request, context=tls.context(), timeout=timeout) as resp:
                if done and resp.status != 206:
                    done = 0  # the server sent the whole file again
                with open(part, "ab" if done else "wb") as out:
                    while chunk := resp.read(CHUNK):
                        out.write(chunk)
                        done += len(chunk)
                        progress(done)
                    out.flush()
                    os.fsync(out.fileno())
        except urllib.error.HTTPError as exc:
            raise FetchError(url, f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
            raise FetchError(url, str(getattr(exc, "reason", exc))) from None
    digest = hashlib.sha256()
    with open(part, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        part.unlink()
        raise HashMismatch(url, f"SHA-256 {digest.hexdigest()} is not the notice's {sha256}")
    os.replace(part, dest)
    return dest


def post_json(server: str, path: str, body: dict[str, Any], tls: Tls, timeout: float = 10) -> None:
    """One report to head office; FetchError when it does not arrive."""
    url = server.rstrip("/") + path
    request = urllib.request.Request(url, data=json.dumps(body, sort_keys=True).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, context=tls.context(), timeout=timeout) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        raise FetchError(url, f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        raise FetchError(url, str(getattr(exc, "reason", exc))) from None
