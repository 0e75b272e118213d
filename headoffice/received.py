"""A journal entry as head office reads it: the body the till signed, and its typed form.

Head office reads entries only through the contract: `read` parses a body with
contract.entries (every type, range and required key checked; EntrySchemaError when it does
not fit), and contract.figures reduces the body to report figures. Ingest reads each body
once and hands the result to the aggregates and the alert rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contract.entries import Entry, parse_entry


@dataclass(frozen=True, slots=True)
class Received:
    """`body` is the signed JSON object (what contract.figures reduces); `entry` its typed form
    (what everything else reads)."""

    body: Mapping[str, Any]
    entry: Entry


def read(body: Mapping[str, Any] | str | bytes, *, strict: bool = True) -> Received:
    """Parses a journal body (an object or its JSON text); raises EntrySchemaError (or
    ValueError for text that is not JSON) when it does not fit the contract.

    `strict=False` only for bodies head office stored earlier (a rebuild): unknown keys are
    ignored there, as the contract allows for a reader."""
    if isinstance(body, (str, bytes)):
        body = json.loads(body)
    return Received(body, parse_entry(body, strict=strict))  # type: ignore[arg-type]
