"""The soak's fleet: a real fleet CA and one enrolled identity per terminal, via provisioning/.

Enrolling is provisioning's own `init_fleet` + `enroll` (an ECDSA P-256 TLS key and
certificate signed by the fleet CA, an Ed25519 journal key, a bundle per terminal), run in
this process with no registry call, so 1,000 terminals take seconds, not a CLI start each.
A fleet is cached by its size under the cache directory and reused by later runs (its
certificates are valid for 825 days); head office's registry is then filled from the fleet
index, as `kassa provision sync-registry` does.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from contract.keys import JournalKey, public_key_pem
from provisioning.enroll import enroll, init_fleet, pin_office_key
from provisioning.fleet import Fleet, Settings

STORE_SIZE = 8  # terminals per store: a chain of 125 shops at 1,000 terminals
FLOOD, POISON = "flood", "poison"  # the two misbehaving terminals' id suffixes


class _BulkFleet(Fleet):
    """A fleet that writes its index once, after the bulk enrollment (save() is otherwise
    called per terminal and rewrites the whole index: quadratic at 1,000 terminals)."""

    def save(self) -> None:
        pass


@dataclass(frozen=True)
class Member:
    """One terminal of the soak: its ids and its enrollment bundle."""

    store: str
    terminal: str
    bundle: Path
    role: str = "normal"  # normal | flood | poison


def terminal_names(count: int) -> list[tuple[str, str, str]]:
    """(store, terminal, role) for `count` terminals; the last two flood and poison."""
    names = []
    for i in range(count):
        role = "normal"
        if count >= 3 and i == count - 2:
            role = FLOOD
        elif count >= 3 and i == count - 1:
            role = POISON
        suffix = f"-{role}" if role != "normal" else ""
        names.append((f"shop{i // STORE_SIZE:03d}", f"t{i:04d}{suffix}", role))
    return names


def provision(cache: Path, count: int, log=print) -> tuple[Fleet, list[Member]]:  # noqa: ANN001
    """The fleet for `count` terminals, from the cache or made now."""
    root = cache / f"fleet-{count}"
    names = terminal_names(count)
    started = time.monotonic()
    if not (root / "fleet.json").exists():
        partial = root.with_name(root.name + ".partial")
        if partial.exists():
            import shutil

            shutil.rmtree(partial)
        init_fleet(partial, Settings(broker_host="127.0.0.1", broker_names=["localhost"]))
        with _BulkFleet.locked(partial) as fleet, ThreadPoolExecutor(8) as pool:
            # the soak sends nothing downstream; bundles still pin a head-office key
            pin_office_key(fleet, public_key_pem(JournalKey.generate()))
            # threads: most of an enrollment is fsync of its bundle files, which frees the GIL
            list(pool.map(lambda n: enroll(fleet, n[0], n[1], None), names))
            Fleet.save(fleet)
        partial.rename(root)
        log(f"fleet: enrolled {count} terminals with certificates in "
            f"{time.monotonic() - started:.1f} s ({root})")
    else:
        log(f"fleet: reusing {count} enrolled terminals from {root}")
    with Fleet.locked(root) as fleet:
        members = [Member(store, terminal, fleet.bundle_dir(terminal), role)
                   for store, terminal, role in names]
        return fleet, members


def register_all(fleet: Fleet) -> int:
    """Every fleet terminal into head office's registry (open_office_db called before)."""
    from headoffice import registry
    from headoffice.orm import write_transaction

    with write_transaction():
        for t in fleet.terminals.values():
            registry.add_terminal(t.terminal, t.store, t.public_key)
    return len(fleet.terminals)
