"""Applies head office's catalogue, price, offers and config messages to the till database.

Every message from the broker enters through `Downstream.receive`, which checks head
office's seal first (contract/sealed.py, with the key the enrollment bundle pinned:
firmware/office_key.py): an unsigned, forged or malformed seal, one signed for another
store or kind, and a replay (the applied version again with other content; an older version
is the "ignored" case below) is refused and recorded before a byte of the body is parsed.
A till with no pinned key refuses everything. Only then is the body checked completely,
against the bounds of contract/downstream.py, and then applied so that the till sees all of
it or none of it; a big catalogue goes in through short transactions
(firmware/uplink/apply.py) so that selling never waits long.
Catalogue and price messages of a store share one version sequence: a full catalogue
applies when its version is newer than the applied one, a delta (price list or partial
catalogue) only on top of the version named in its `base`. Offers and the fleet config
each have their own sequence. A version more than contract's MAX_VERSION_JUMP ahead is
refused.

What happens to a message that is not applied:
- refused (out of bounds, malformed, unmergeable): a `downstream_reject` row, counted;
- ignored (a version older than the applied one that is not the redelivered copy of what
  was last applied of its kind): a `downstream_reject` row marked "ignored", counted once
  per kind and version;
- a retained copy of what is applied, redelivered at each connect: nothing.
The counts and the last such message go into the uplink's `status` (reject_summary) and
the till's status snapshot (firmware/status.py). Each refused, ignored and applied message
also leaves a `downstream_event` row, written in the transaction that records or applies
it; the till journals it (firmware/downstream_log.py), since the uplink has no journal key.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee

from contract import downstream as bounds
from contract.config import ConfigError, parse_config
from contract.keys import PublicKey
from contract.sealed import FLEET, SealError, Unsealed, unseal
from contract.shop_time import shop_stamp
from contract.wire import ProtocolError, json_object
from firmware.models import DownstreamEvent, DownstreamReject, Meta
from firmware.offers import OFFERS_VERSION, OfferMessageError, apply_message
from firmware.promotion_rule import PROMOTIONS_VERSION
from firmware.promotion_rule import apply_message as apply_promotions
from firmware.uplink.apply import Conflict, Stager

CATALOGUE_VERSION = "catalogue_version"
CONFIG_VERSION = "remote_config_version"
CONFIG_TOML = "remote_config_toml"
TILL_CONFIG = "till_config_running"  # JSON the till writes (firmware/remote_config.py):
# {"version": the remote config version it runs, "restart": keys that wait for a restart}
REMOTE_CONFIG_SECTIONS = bounds.CONFIG_SECTIONS
SEQUENCES = {"catalogue": CATALOGUE_VERSION, "prices": CATALOGUE_VERSION,
             "config": CONFIG_VERSION, "offers": OFFERS_VERSION,
             "promotions": PROMOTIONS_VERSION}
SEALED_SHA = "downstream_sha:"  # + a SEQUENCES value: the seal's body hash of the applied version
NO_KEY = ("unsigned: no head-office key is pinned on this till (mqtt.office_public_key);"
          " nothing from head office is applied")
REFUSED_COUNT, IGNORED_COUNT = "downstream_refused", "downstream_ignored"
LAST_APPLIED = "downstream_last:"  # + kind: the version last applied of that kind
IGNORED = "ignored: "  # the reason of an ignored message starts so
KEEP_REJECTS = 1000  # newest rows kept; the counts go on
KEEP_EVENTS = 10_000  # rows waiting for the till, at most (a till that never runs)


class Rejected(ValueError):
    """A downstream message that was refused; nothing of it was applied."""


class OutOfSequence(Rejected):
    """A delta whose base is not the applied version; it may apply after a newer full one."""


class _Stale(Exception):
    """The version is no longer newer than the applied one (found inside the merge)."""


@dataclass(frozen=True)
class Outcome:
    applied: bool
    version: int
    detail: str


def applied_version(key: str) -> int:
    """The applied version of a sequence. A stored version beyond the contract's bound (left
    by a release that accepted any number) counts as none, so real versions apply again."""
    row = Meta.get_or_none(Meta.key == key)
    try:
        value = int(row.value) if row else 0
    except ValueError:
        return 0
    return value if 0 <= value <= bounds.MAX_VERSION else 0


class Downstream:
    """Validates and applies one downstream message per call."""

    def __init__(self, db: peewee.SqliteDatabase, store: str = "",
                 office_key: PublicKey | None = None) -> None:
        self.db, self.store, self.office_key = db, store, office_key
        self.last_stats = None

    def receive(self, kind: str, payload: bytes, fleet: bool = False) -> Outcome:
        """A message as it came from the broker on `kind`'s topic of this till's store (or the
        fleet's, with `fleet`): its seal checked with the pinned key, then its body applied.
        Raises Rejected (recorded, journaled by the till) when the seal is missing, wrong or
        for somewhere else, or when no key is pinned; else as `apply`."""
        if self.office_key is None:
            self.record_reject(kind, NO_KEY, payload)
            raise Rejected(NO_KEY)
        try:
            bounds.check_size(kind, payload)
            message = unseal(payload, self.office_key, kind, FLEET if fleet else self.store)
        except bounds.DownstreamError as exc:
            self.record_reject(kind, str(exc), payload)
            raise Rejected(str(exc)) from None
        except SealError as exc:
            reason = f"{exc.reason}: {kind} message: {exc.detail}"
            self.record_reject(kind, reason, payload)
            raise Rejected(reason) from None
        self._refuse_replay(kind, message, payload)
        outcome = self.apply(kind, message.body)
        if outcome.applied:
            Meta.insert(key=SEALED_SHA + SEQUENCES[kind],
                        value=_sha(message)).on_conflict_replace().execute()
        return outcome

    def _refuse_replay(self, kind: str, message: Unsealed, payload: bytes) -> None:
        """The applied version of a sequence again, with other content than what was applied:
        head office never signs two bodies with one version, so it is an old message replayed
        under a reused version (or head office's error); either way it is not applied. The
        same bytes again (the retained copy at each connect) pass on to `apply`'s no-op."""
        sequence = SEQUENCES[kind]
        if message.version != applied_version(sequence):
            return
        held = Meta.get_or_none(Meta.key == SEALED_SHA + sequence)
        if held is not None and held.value != _sha(message):
            reason = (f"replayed: {kind} v{message.version} is applied already, with other"
                      " content")
            self.record_reject(kind, reason, payload, message.version)
            raise Rejected(reason)

    def apply(self, kind: str, payload: bytes) -> Outcome:
        """The body of a message whose seal `receive` checked (kind: catalogue, prices, config,
        offers or promotions); tests and benchmarks of the body rules call it directly.
        Raises Rejected (and records it) on bad input, firmware.db.DatabaseBusy when the
        database stayed locked (try again)."""
        version: int | None = None
        try:
            bounds.check_size(kind, payload)
            data = _object(payload)
            version = bounds.version_of(kind, data)
            current = applied_version(SEQUENCES[kind])
            if version <= current:
                return self._not_newer(kind, version, current)
            bounds.check_version(kind, version, current)
            handler = {"catalogue": self._catalogue, "prices": self._prices,
                       "config": self._config, "offers": self._offers,
                       "promotions": self._promotions}[kind]
            return handler(data)
        except bounds.DownstreamError as exc:
            self.record_reject(kind, str(exc), payload, version)
            raise Rejected(str(exc)) from None
        except _Stale:
            return Outcome(False, applied_version(SEQUENCES[kind]), f"{kind}: already applied")
        except Rejected as exc:
            if not isinstance(exc, OutOfSequence):
                self.record_reject(kind, str(exc), payload, version)
            raise

    def _not_newer(self, kind: str, version: int, current: int) -> Outcome:
        last = Meta.get_or_none(Meta.key == LAST_APPLIED + kind)
        if version == current or (last is not None and last.value == str(version)):
            return Outcome(False, current, f"{kind} v{version} already applied")
        reason = f"{IGNORED}{kind} v{version} is older than the applied v{current}"
        self.record_reject(kind, reason, b"", version)
        return Outcome(False, current, reason)

    def record_reject(self, kind: str, reason: str, payload: bytes,
                      version: int | None = None) -> None:
        """One row, one count and one event for the journal per message not applied; the same
        message again (a retained one at each start of the uplink) is not counted again."""
        ignored = reason.startswith(IGNORED)
        counter = IGNORED_COUNT if ignored else REFUSED_COUNT
        reason = reason[:500]
        with self.db.atomic("IMMEDIATE"):
            last = (DownstreamReject.select(DownstreamReject.reason)
                    .where(DownstreamReject.kind == kind[:20])
                    .order_by(DownstreamReject.id.desc()).first())
            if last is not None and last.reason == reason:
                return
            received = _now()
            DownstreamReject.create(received=received, kind=kind[:20], reason=reason,
                                    payload=payload[:4096].decode("utf-8", "replace"))
            _event(kind, "ignored" if ignored else "refused", version, reason, received=received)
            Meta.insert(key=counter, value="1").on_conflict(
                conflict_target=[Meta.key],
                update={Meta.value: peewee.Cast(Meta.value, "INTEGER") + 1}).execute()
            self.db.execute_sql("DELETE FROM downstream_reject WHERE id <= (SELECT max(id)"
                                " FROM downstream_reject) - ?", (KEEP_REJECTS,))

    # -- the kinds -------------------------------------------------------------------------
    def _catalogue(self, data: dict[str, Any]) -> Outcome:
        message = bounds.parse_catalogue(data)
        stats = self._staged(lambda stager, guard, done: stager.catalogue(message, guard, done),
                             "catalogue", message.version, message.base,
                             (len(message.products), len(message.remove), message.mode))
        return Outcome(True, message.version, f"catalogue v{message.version} {message.mode}:"
                       f" {len(message.products)} products, {len(message.remove)} removed"
                       f" (longest lock {stats.longest_lock * 1000:.0f} ms)")

    def _prices(self, data: dict[str, Any]) -> Outcome:
        message = bounds.parse_prices(data)
        self._staged(lambda stager, guard, done: stager.prices(message, guard, done),
                     "prices", message.version, message.base, (len(message.prices), 0, ""))
        return Outcome(True, message.version,
                       f"prices v{message.version}: {len(message.prices)} prices")

    def _staged(self, run: Callable, kind: str, version: int, base: int | None,
                counts: tuple[int, int, str]) -> Any:
        """Runs a staged apply; the guard re-checks the version inside the final merge, where
        the new version and the event for the journal (counts: listed, removed, mode) go in."""
        def guard() -> None:
            current = applied_version(CATALOGUE_VERSION)
            if version <= current:
                raise _Stale()
            if base is not None and base != current:
                raise OutOfSequence(f"{kind} v{version} builds on v{base} but v{current} is applied")

        guard()
        stager = Stager(self.db)
        try:
            stats = run(stager, guard, lambda: _applied(CATALOGUE_VERSION, version, kind, counts))
        except Conflict as exc:
            raise Rejected(f"{kind} v{version}: {exc}") from None
        self.last_stats = stats
        return stats

    def _config(self, data: dict[str, Any]) -> Outcome:
        version, text = bounds.parse_config(data)
        try:
            parse_config(text, source=f"fleet config v{version}")
            sections = set(tomllib.loads(text))
        except (ConfigError, tomllib.TOMLDecodeError, RecursionError) as exc:
            raise Rejected(f"config v{version}: {exc}") from None
        if not sections <= REMOTE_CONFIG_SECTIONS:
            extra = ", ".join(sorted(sections - REMOTE_CONFIG_SECTIONS))
            raise Rejected(f"config v{version}: section(s) {extra} cannot be set remotely")
        with self.db.atomic("IMMEDIATE"):
            current = applied_version(CONFIG_VERSION)
            if version <= current:
                return Outcome(False, current, f"config v{version} already applied")
            Meta.insert(key=CONFIG_TOML, value=text).on_conflict_replace().execute()
            _applied(CONFIG_VERSION, version, "config", (len(sections), 0, ""))
        return Outcome(True, version, f"config v{version}: {', '.join(sorted(sections))}")

    def _offers(self, data: dict[str, Any]) -> Outcome:
        """Customers and personal offers of the store (firmware/offers.py), a full snapshot."""
        bounds.check_offers_size(data)
        try:
            applied, version, detail = apply_message(
                self.db, data, applied_version,
                lambda key, version: _applied(key, version, "offers",
                                              (len(data.get("offers") or ()), 0, "")))
        except OfferMessageError as exc:
            raise Rejected(str(exc)) from None
        return Outcome(applied, version, detail)

    def _promotions(self, data: dict[str, Any]) -> Outcome:
        """Head office's promotions of the store (firmware/promotion_rule.py), a full list."""
        return Outcome(*apply_promotions(
            self.db, data, applied_version,
            lambda key, version, count: _applied(key, version, "promotions", (count, 0, ""))))


def config_live() -> dict[str, Any]:
    """What the till runs of head office's config: {"version", "restart"} (firmware/
    remote_config.py writes it); version 0 before the till took any in."""
    row = Meta.get_or_none(Meta.key == TILL_CONFIG)
    try:
        data = json.loads(row.value) if row else {}
    except ValueError:
        data = {}
    version = data.get("version") if isinstance(data, dict) else None
    restart = data.get("restart") if isinstance(data, dict) else None
    return {"version": version if isinstance(version, int) else 0,
            "restart": [str(k) for k in restart][:20] if isinstance(restart, list) else []}


def reject_summary() -> dict[str, Any]:
    """What the till refused or ignored of head office's messages: the counts since the
    database was made, and the newest one (kind, reason, when) or None."""
    counts = {key: 0 for key in (REFUSED_COUNT, IGNORED_COUNT)}
    for row in Meta.select().where(Meta.key.in_(list(counts))):
        counts[row.key] = int(row.value)
    last = DownstreamReject.select().order_by(DownstreamReject.id.desc()).first()
    return {"refused": counts[REFUSED_COUNT], "ignored": counts[IGNORED_COUNT],
            "last": None if last is None else {"kind": last.kind, "reason": last.reason,
                                               "at": last.received}}


def _sha(message: Unsealed) -> str:
    return message.sha256 or hashlib.sha256(message.body).hexdigest()


def _object(payload: bytes) -> dict[str, Any]:
    try:
        return json_object(payload)
    except ProtocolError as exc:
        raise Rejected(str(exc)) from None


def _now() -> str:
    return shop_stamp("milliseconds")


def _event(kind: str, outcome: str, version: int | None, reason: str, count: int = 0,
           removed: int = 0, received: str | None = None) -> None:
    """One row for the till to journal; inside the caller's transaction."""
    DownstreamEvent.create(received=received or _now(), kind=kind[:20], outcome=outcome,
                           version=version, reason=reason[:500], count=count, removed=removed)
    DownstreamEvent.delete().where(DownstreamEvent.id <= DownstreamEvent.select(
        peewee.fn.MAX(DownstreamEvent.id)).scalar() - KEEP_EVENTS).execute()


def _applied(key: str, version: int, kind: str, counts: tuple[int, int, str]) -> None:
    """The new version of a sequence and the event that journals it, in one transaction."""
    _set_version(key, version, kind)
    listed, removed, mode = counts
    detail = f"{kind} v{version}" + (f" {mode}" if mode else "")
    _event(kind, "applied", version, detail, listed, removed)


def _set_version(key: str, version: int, kind: str | None = None) -> None:
    Meta.insert(key=key, value=str(version)).on_conflict_replace().execute()
    if kind is not None:
        Meta.insert(key=LAST_APPLIED + kind, value=str(version)).on_conflict_replace().execute()
