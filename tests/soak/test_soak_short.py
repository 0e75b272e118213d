"""The chain-scale soak, short: 30 terminals with mTLS on one broker (the generated config),
head office on PostgreSQL with `kassa office ingest` workers, 36 s of sales with a flooding
terminal (half of its messages valid, signed entries again), a poison terminal, a broker
restart and a kill -9 of an ingest worker; about a minute in all.

Head office must then equal every till (0 lost, 0 duplicated, no wrong or extra entry), and
the poison and the flood must not hold the other terminals back: every sale of the others
reaches the dashboard aggregates, with p99 under P99_BOUND even across the restart and the
kill. The full run (1,000 terminals, 30 minutes) is `python -m bench.soak`, see
docs/operations/soak.md.
"""

from __future__ import annotations

import json

from bench.soak.run import Params, print_report, run_soak

P99_BOUND = 30.0  # seconds; an undisturbed run shows about 1.5 s on 2 cores


def test_soak_short(postgres_database, tmp_path) -> None:
    params = Params(terminals=30, minutes=0.6, sale_interval=4, flood_rate=150, per_process=15,
                    rss_interval=1, drain_seconds=45, db=postgres_database(),
                    workdir=str(tmp_path / "soak"), cache=str(tmp_path / "cache"))
    report = run_soak(params)
    print_report(report)
    detail = json.dumps(report["comparison"], indent=1)
    t, events, c = report["terminals"], report["events"], report["comparison"]

    # the disturbances really happened
    assert set(events) == {"broker_restart", "worker_kill"}
    assert t["poison_sent"] >= 3, "the poison terminal sent no poison"
    assert t["flood_sent"] >= 1000, f"the flood sent only {t['flood_sent']} messages"
    assert t["flood_valid_sent"] >= 300, "the flood sent too few valid (signed) messages"
    # beyond its rate the flooding terminal's messages, valid ones too, are refused unchecked
    assert report["dead_letters"]["by_reason"].get("rate_limited", 0) > 0, report["dead_letters"]
    assert t["sales"] >= 200, f"only {t['sales']} sales"

    # head office equals every till
    assert c["entries"] == t["sales"]
    assert c["lost"] == 0, f"head office lost entries it had confirmed:\n{detail}"
    assert c["undelivered"] == 0, f"entries never reached head office:\n{detail}"
    assert c["duplicated"] == 0, f"head office stored entries twice:\n{detail}"
    assert c["wrong_hash"] == 0 and c["extra"] == 0, f"head office holds other entries:\n{detail}"
    assert t["terminals_not_acked"] == 0, "a till still waits for head office's ack"

    # the poison and the flood held nobody back
    normal = report["latency_s"]["normal"]
    assert normal["never_seen"] == 0, f"{normal['never_seen']} sales never reached the dashboard"
    assert normal["p99"] <= P99_BOUND, f"sale-to-dashboard p99 {normal['p99']} s"
    assert report["latency_s"]["all"]["never_seen"] == 0

    # every process was sampled (the figures are in the report; 75 s shows no trend)
    names = {m["name"].split(" ")[0] for m in report["memory"] if m["samples"]}
    assert {"broker", "ingest", "terminals"} <= names
