"""The soak at chain scale: N terminals with mTLS on one broker, head office on PostgreSQL,
selling for M minutes, with a flooding terminal, a poison terminal, a broker restart and a
kill -9 of an ingest worker; at the end head office must equal every till.

    PYTHONPATH=. .venv/bin/python -m bench.soak --terminals 1000 --minutes 30

See docs/operations/soak.md for what each part is, what is simulated, and a run's figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.soak.broker import start_broker
from bench.soak.fleet import Member, provision, register_all
from bench.soak.memory import Sampler
from bench.soak.office import (
    ROOT,
    DashboardWatch,
    Ingest,
    create_database,
    dead_letters,
    drop_database,
    stored_entries,
)
from bench.soak.payloads import sale_templates

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Params:
    terminals: int = 1000
    minutes: float = 30.0
    sale_interval: float = 60.0  # mean seconds between two sales of one terminal
    flood_rate: float = 200.0  # messages per second from the flooding terminal
    flood_valid: float = 0.5  # share of them that are valid: its own signed entries again
    till_cache_kb: int = 64  # SQLite page cache per till journal (see soak.md)
    no_poison: bool = False  # the poison terminal only sells (a baseline run)
    per_process: int = 125  # terminals per terminal process
    workers: int = 2  # ingest worker processes
    restart_at: float = 0.35  # broker restart, as a share of the selling time
    kill_at: float = 0.6  # kill -9 of an ingest worker, likewise
    drain_seconds: float = 180.0  # longest wait after the last sale for head office
    rss_interval: float = 5.0
    seed: int = 17
    pg: str = DEFAULT_PG  # maintenance database: a fresh database is made on its server
    db: str = ""  # or an existing empty head-office database URL
    workdir: str = ""  # default: a temporary directory, removed at the end
    cache: str = ""  # where enrolled fleets are kept between runs
    tills_dir: str = ""  # the till journals; default: in RAM (/dev/shm), see soak.md
    keep: bool = False


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {"cpus": os.cpu_count(), "cpu": model, "memory_gb": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "python": platform.python_version(),
            "load_at_start": os.getloadavg()}


def wait_ingest_connected(broker, workers: int) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 60
    ids = [f" as kassa-ingest-{i} " for i in range(workers)]
    while not all(i in broker.log() for i in ids):
        if time.monotonic() > deadline:
            raise RuntimeError("the ingest workers did not connect:\n" + broker.log()[-3000:])
        time.sleep(0.2)


def tills_directory(p: Params, work: Path) -> Path:
    """Where the till journals go. One VM disk cannot stand in for 1,000 SD cards: every
    sale, ack and link heartbeat is an fsync (synchronous=FULL), and one process's loop
    waits for each of its 125 terminals' in turn, so by default they live in RAM."""
    if p.tills_dir:
        path = Path(p.tills_dir)
    elif Path("/dev/shm").is_dir():
        path = Path(tempfile.mkdtemp(prefix="kassa-soak-tills-", dir="/dev/shm"))
    else:
        path = work / "tills"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_terminals(p: Params, members: list[Member], work: Path, tills: Path, port: int,
                    sell_until: float) -> list[tuple[subprocess.Popen, Path]]:
    count = max(1, math.ceil(len(members) / p.per_process))
    procs = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for n in range(count):
        spec = {
            "members": [{"store": m.store, "terminal": m.terminal, "bundle": str(m.bundle),
                         "role": m.role} for m in members[n::count]],
            "host": "127.0.0.1", "port": port, "sale_interval": p.sale_interval,
            "flood_rate": p.flood_rate, "flood_valid": p.flood_valid,
            "till_cache_kb": p.till_cache_kb, "poison": not p.no_poison, "seed": p.seed * 1000 + n,
            "templates": str(work / "templates.json"), "workdir": str(tills),
            "sell_until": sell_until, "drain_until": sell_until + p.drain_seconds,
            "result": str(work / f"terminals-{n}.json"),
        }
        spec_path = work / f"terminals-{n}.spec.json"
        spec_path.write_text(json.dumps(spec))
        with (work / f"terminals-{n}.log").open("ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", "bench.soak.terminals",
                                     str(spec_path)], cwd=ROOT, env=env, stdout=out,
                                    stderr=subprocess.STDOUT)
        procs.append((proc, Path(spec["result"])))
    return procs


def till_entries(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(int(s), h) for s, h in conn.execute("SELECT seq, hash FROM journal ORDER BY seq")]
    finally:
        conn.close()


def compare(terminals: list[dict[str, Any]], tills: Path,
            office: dict[str, list[tuple[int, str, float]]]) -> dict[str, Any]:
    """Head office against every till journal: lost, duplicated, wrong and extra entries."""
    totals = {"entries": 0, "lost": 0, "undelivered": 0, "duplicated": 0, "wrong_hash": 0,
              "extra": 0}
    bad: list[dict[str, Any]] = []
    for t in terminals:
        mine = dict(till_entries(tills / f"{t['terminal']}.sqlite3"))
        rows = office.get(t["terminal"], [])
        theirs = {seq: digest for seq, digest, _ in rows}
        missing = [seq for seq in mine if seq not in theirs]
        found = {
            # confirmed to the till, yet absent: lost; never confirmed: still in its outbox
            "lost": sum(1 for seq in missing if seq <= t["acked"]),
            "undelivered": sum(1 for seq in missing if seq > t["acked"]),
            "duplicated": len(rows) - len(theirs),
            "wrong_hash": sum(1 for seq, h in mine.items() if seq in theirs and theirs[seq] != h),
            "extra": sum(1 for seq in theirs if seq not in mine),
        }
        totals["entries"] += len(mine)
        for key, value in found.items():
            totals[key] += value
        if any(found.values()):
            bad.append({"terminal": t["terminal"], "role": t["role"], "till": len(mine),
                        "office": len(rows), **found})
    return {**totals, "terminals_differing": len(bad), "differing": bad[:20]}


def latency(terminals: list[dict[str, Any]], watch: DashboardWatch,
            office: dict[str, list[tuple[int, str, float]]]) -> dict[str, Any]:
    """Sale-to-dashboard (the watcher) and, without its polling error, sale-to-stored (the
    row's `received` time written by ingest), per group of terminals."""
    out: dict[str, Any] = {}
    groups = {"normal": [t for t in terminals if t["role"] == "normal"], "all": terminals}
    for name, group in groups.items():
        values: list[float] = []
        stored: list[float] = []
        sent: list[float] = []
        acked: list[float] = []
        unseen = 0
        for t in group:
            seen, missing = watch.latencies(t["terminal"], t["commits"])
            values += seen
            unseen += missing
            at = {seq: when for seq, _, when in office.get(t["terminal"], [])}
            stored += [at[k] - c for k, c in enumerate(t["commits"], start=1) if k in at]
            sent += [s - c for s, c in zip(t["sent"], t["commits"], strict=False)]
            acked += [a - c for a, c in zip(t["acked_at"], t["commits"], strict=False)]
        out[name] = {"sales": len(values) + unseen, "never_seen": unseen,
                     **{f"p{int(q * 100)}": _round(percentile(values, q))
                        for q in (0.5, 0.95, 0.99)},
                     "max": _round(max(values) if values else None),
                     "stored_p50": _round(percentile(stored, 0.5)),
                     "stored_p99": _round(percentile(stored, 0.99)),
                     "sent_p50": _round(percentile(sent, 0.5)),
                     "sent_p99": _round(percentile(sent, 0.99)),
                     "till_acked_p50": _round(percentile(acked, 0.5)),
                     "till_acked_p99": _round(percentile(acked, 0.99))}
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def run_soak(p: Params) -> dict[str, Any]:
    work = Path(p.workdir) if p.workdir else Path(tempfile.mkdtemp(prefix="kassa-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    tills = tills_directory(p, work)
    cache = Path(p.cache) if p.cache else Path(tempfile.gettempdir()) / "kassa-soak-cache"
    report: dict[str, Any] = {"params": asdict(p), "machine": machine(), "events": {},
                              "tills_dir": str(tills)}
    created_db = ""
    broker = ingest = watch = sampler = None
    procs: list[tuple[subprocess.Popen, Path]] = []
    try:
        fleet, members = provision(cache, p.terminals, log=log)
        (work / "templates.json").write_text(json.dumps(sale_templates()))
        from headoffice.db import database_proxy, open_office_db

        url = p.db or create_database(p.pg)
        created_db = "" if p.db else url
        open_office_db(url)
        log(f"head office: {url.split('@')[-1]}, {register_all(fleet)} terminals registered")
        broker, ingest_port = start_broker(fleet, work)
        log(f"broker: mosquitto pid {broker.proc.pid}, terminals on {broker.port} (mTLS), "
            f"head office on {ingest_port}")
        ingest = Ingest(url, ingest_port, (fleet.ca_cert_path, fleet.ingest_cert_path,
                                           fleet.ingest_key_path), p.workers, work / "ingest.log")
        ingest.wait_workers()
        wait_ingest_connected(broker, p.workers)
        watch = DashboardWatch(database_proxy.obj).start()
        selling = p.minutes * 60
        start = time.time()
        sell_until = start + selling
        procs = start_terminals(p, members, work, tills, broker.port, sell_until)
        log(f"{p.terminals} terminals in {len(procs)} processes selling every "
            f"{p.sale_interval:g} s on average for {p.minutes:g} min")

        def targets() -> dict[str, int]:
            out = {f"broker {broker.proc.pid}": broker.proc.pid} if broker.running else {}
            out[f"ingest supervisor {ingest.proc.pid}"] = ingest.proc.pid
            out.update({f"ingest worker {pid}": pid for pid in ingest.worker_pids()})
            out.update({f"terminals {n} {proc.pid}": proc.pid for n, (proc, _) in enumerate(procs)
                        if proc.poll() is None})
            return out

        sampler = Sampler(targets, p.rss_interval).start()
        events = report["events"]
        restart_at, kill_at = start + p.restart_at * selling, start + p.kill_at * selling
        deadline = sell_until + p.drain_seconds + 120
        while any(proc.poll() is None for proc, _ in procs) and time.time() < deadline:
            now = time.time()
            if "broker_restart" not in events and now >= restart_at:
                began = time.monotonic()
                broker.restart()
                events["broker_restart"] = {"at_s": round(now - start, 1),
                                            "down_s": round(time.monotonic() - began, 2)}
                log(f"broker restarted ({events['broker_restart']['down_s']} s down)")
            if "worker_kill" not in events and now >= kill_at:
                pid = ingest.kill_worker()
                events["worker_kill"] = {"at_s": round(now - start, 1), "pid": pid}
                log(f"ingest worker pid {pid} killed with SIGKILL")
            time.sleep(0.5)
        report["drain_s"] = round(time.time() - sell_until, 1)
        for proc, _ in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(60)
        terminals: list[dict[str, Any]] = []
        for n, (proc, result) in enumerate(procs):
            if not result.exists():
                raise RuntimeError(f"terminal process {n} exited with {proc.returncode} without "
                                   f"a result; see {work / f'terminals-{n}.log'}")
            terminals += json.loads(result.read_text())["terminals"]
        time.sleep(1)  # a last dashboard poll after the last ack
        watch.finish()
        report["memory"] = sampler.finish()
        office = stored_entries()
        report["comparison"] = compare(terminals, tills, office)
        report["latency_s"] = latency(terminals, watch, office)
        report["dead_letters"] = dead_letters()
        report["terminals"] = summary(terminals, selling)
        report["machine"]["load_at_end"] = os.getloadavg()
        return report
    finally:
        if watch is not None:
            watch.finish()
        if sampler is not None:
            sampler.stop.set()
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        if ingest is not None:
            ingest.stop()
        if broker is not None:
            broker.stop()
        _close_office()
        if created_db:
            drop_database(p.pg, created_db)
        if not p.tills_dir and str(tills).startswith("/dev/shm/"):
            shutil.rmtree(tills, ignore_errors=True)
        if not p.keep and not p.workdir:
            shutil.rmtree(work, ignore_errors=True)
        else:
            (work / "report.json").write_text(json.dumps(report, indent=2))


def _close_office() -> None:
    from headoffice.db import database_proxy

    if database_proxy.obj is not None:
        database_proxy.obj.close()
        database_proxy.initialize(None)


def summary(terminals: list[dict[str, Any]], selling: float) -> dict[str, Any]:
    sales = sum(len(t["commits"]) for t in terminals)
    by_role = {t["role"]: t for t in terminals if t["role"] != "normal"}
    return {
        "count": len(terminals), "sales": sales, "sales_per_s": round(sales / selling, 2),
        "backlog_left": sum(max(0, t["head"] - t["acked"]) for t in terminals),
        "terminals_not_acked": sum(1 for t in terminals if t["acked"] < t["head"]),
        "resends": sum(t["resends"] for t in terminals),
        "published": sum(t["published"] for t in terminals),
        "never_connected": sum(1 for t in terminals if not t["connects"]),
        **{f"{role}_sent": t["extra_sent"] for role, t in by_role.items()},
        **{f"{role}_valid_sent": t.get("valid_extra", 0) for role, t in by_role.items()},
        **{f"{role}_acked": f"{t['acked']}/{t['head']}" for role, t in by_role.items()},
    }


def print_report(r: dict[str, Any]) -> None:
    c, lat, t = r["comparison"], r["latency_s"], r["terminals"]
    m = r["machine"]
    print(f"machine: {m['cpus']} x {m['cpu']}, {m['memory_gb']} GB, load {m['load_at_start']}"
          f" -> {m['load_at_end']}")
    print(f"terminals: {t['count']}, sales {t['sales']} ({t['sales_per_s']}/s), published "
          f"{t['published']}, resends {t['resends']}, never connected {t['never_connected']}")
    print(f"flood sent {t.get('flood_sent')} ({t.get('flood_valid_sent')} valid), poison sent "
          f"{t.get('poison_sent')}; flood acked "
          f"{t.get('flood_acked')}, poison acked {t.get('poison_acked')}")
    print(f"events: {r['events']}; drain {r['drain_s']} s after the last sale, backlog left "
          f"{t['backlog_left']} on {t['terminals_not_acked']} terminals")
    print(f"head office vs tills: {c['entries']} till entries, lost {c['lost']}, undelivered "
          f"(still in the tills' outboxes) {c['undelivered']}, duplicated "
          f"{c['duplicated']}, wrong hash {c['wrong_hash']}, extra {c['extra']}, terminals "
          f"differing {c['terminals_differing']}")
    for name, v in lat.items():
        print(f"sale-to-dashboard ({name}): p50 {v['p50']} s, p95 {v['p95']} s, p99 {v['p99']}"
              f" s, max {v['max']} s; never seen {v['never_seen']} of {v['sales']}; "
              f"sale-to-stored p50 {v['stored_p50']} s, p99 {v['stored_p99']} s; "
              f"sale-to-sent p50 {v['sent_p50']} s, p99 {v['sent_p99']} s; "
              f"sale-to-ack-at-till p50 {v['till_acked_p50']} s, p99 {v['till_acked_p99']} s")
    print(f"dead letters: {r['dead_letters']}")
    for s in r["memory"]:
        print(f"rss {s['name']:<26} {s.get('first_mb')} / {s.get('mid_mb')} / {s.get('last_mb')}"
              f" MB (start/middle/end; max {s.get('max_mb')}), slope "
              f"{s.get('slope_mb_per_hour')} MB/h (anon {s.get('anon_slope_mb_per_hour')}), "
              f"flat {s['flat']} ({s.get('judged', '')})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    d = Params()
    for name, value in asdict(d).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true")
        else:
            parser.add_argument(flag, type=type(value), default=value)
    p = Params(**vars(parser.parse_args(argv)))
    report = run_soak(p)
    print_report(report)
    c = report["comparison"]
    ok = not any(c[k] for k in ("lost", "undelivered", "duplicated", "wrong_hash", "extra"))
    print("RESULT: " + ("head office equals every till" if ok else "head office DIFFERS"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
