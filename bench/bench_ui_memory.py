"""Resident memory of the till UI after 200 sales. Target: the till's own share (its RSS
minus a bare Kivy window's, same renderer, same run) <= 40 MB.

Measured on a terminal whose database already exists (a first run creates the keys, demo
users and catalogue, as the startup benchmark does): the till restarted by systemd, not the
one-off catalogue import. The sales go through the screens' own code paths (scan on the sale
screen, cash on the payment screen, the done screen, back to the sale screen), a few per frame so every screen
is drawn. The till is wired as `kassa till --sim` wires it: its printer driver runs in a print
process of its own (drivers/printer/remote.py), whose memory is printed beside the share (it
is not in it: the share is the screen process's). Reference, same run: the same process's
RSS at its first interactive frame, and a bare Kivy app with one button.

`--runs N` repeats the pair (till, bare window, each a fresh process on the same database)
N times and prints the medians.

Run: .venv/bin/python bench/bench_ui_memory.py [--sales 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ui_common import (  # noqa: E402
    after_first_frame,
    bare_app,
    report,
    rss_breakdown,
    rss_mb,
    run_child,
    till_app,
)

from tests.ui.xvfb import xvfb  # noqa: E402


def child(mode: str, sales: int, var_dir: str = "") -> None:
    if mode == "bare":
        app = bare_app()

        def done() -> None:
            report({"rss": rss_mb(), "parts": rss_breakdown()})
            app.stop()

        after_first_frame(app, done)
        app.run()
        return
    app = till_app(var_dir=var_dir)
    if mode == "prepare":  # the terminal's first start: keys, demo users and catalogue
        after_first_frame(app, app.stop)
        app.run()
        return
    state = {"sold": 0, "start": 0.0}

    def sell(_dt: float) -> bool | None:
        from firmware.sim import make_gtin

        sm = app.sm
        for _ in range(2):
            if sm.current != "sale":
                sm.get_screen("done").next_customer()
            sale = sm.get_screen("sale")
            for n in range(3):
                app.runtime.scan(make_gtin(1 + (state["sold"] * 3 + n) % 200))
            sale.pay()
            payment = sm.get_screen("payment")
            payment.pay_cash(app.till.cash_due() + 1000)
            state["sold"] += 1
            if state["sold"] >= sales:
                app.till.print_queue.wait_idle(30)
                report({"rss_start": state["start"], "rss": rss_mb(), "sales": state["sold"],
                        "parts": rss_breakdown(), "printer": print_process_mb(app),
                        "journal": app.till.journal.head()[0]})
                app.stop()
                return False
        return None

    def begin() -> None:
        from kivy.clock import Clock

        app.till.login("1111")
        app.go("sale")
        state["start"] = rss_mb()
        Clock.schedule_interval(sell, 0)

    after_first_frame(app, begin)
    app.run()


TARGET_MB = 40.0


def print_process_mb(app: Any) -> dict[str, float]:
    """The print process beside the screen's (drivers/printer/remote.py): its resident and
    proportional (shared pages split) memory, so the share is never read without it."""
    pid = getattr(app.sims.printer, "pid", None)
    if pid is None:
        return {}
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("Rss", "Pss"):
            found[key.lower()] = int(line.split()[1]) / 1024
    return found


def print_run(till: dict, bare: dict) -> None:
    print(f"RSS after {till['sales']} sales through the UI: {till['rss']:.0f} MB "
          f"(at the first frame: {till['rss_start']:.0f} MB, "
          f"growth {till['rss'] - till['rss_start']:.1f} MB); bare Kivy button: {bare['rss']:.0f} MB")
    print(f"  {'resident MB by mapping':58s} {'till':>6s} {'bare':>6s} {'till-bare':>9s}")
    for part in sorted(set(till["parts"]) | set(bare["parts"]), key=lambda p: -till["parts"].get(p, 0)):
        t, b = till["parts"].get(part, 0.0), bare["parts"].get(part, 0.0)
        print(f"  {part:58s} {t:6.1f} {b:6.1f} {t - b:+9.1f}")
    print(f"  the till's own share (till - bare, same renderer): {till['rss'] - bare['rss']:.1f} MB")
    if till.get("printer"):
        print(f"  beside it, the print process (escpos, not in the share): RSS "
              f"{till['printer']['rss']:.1f} MB, PSS {till['printer']['pss']:.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sales", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child")
    parser.add_argument("--var", default="")
    args = parser.parse_args()
    if args.child:
        if args.child == "prepare":
            child(args.child, 0, args.var)
            report({})
            return 0
        child(args.child, args.sales, args.var)
        return 0
    var = tempfile.mkdtemp(prefix="kassa-bench-mem-")
    shares, tills, bares, printers = [], [], [], []
    with xvfb() as display:
        run_child(Path(__file__), "prepare", display, "--var", var)
        for n in range(args.runs):
            till, _ = run_child(Path(__file__), "till", display, "--sales", str(args.sales),
                                "--var", var)
            bare, _ = run_child(Path(__file__), "bare", display)
            print(f"--- run {n + 1} of {args.runs}")
            print_run(till, bare)
            shares.append(till["rss"] - bare["rss"])
            tills.append(till["rss"])
            bares.append(bare["rss"])
            if till.get("printer"):
                printers.append(till["printer"]["pss"])
    share = statistics.median(shares)
    print(f"=== {args.runs} run(s): the till's own share after {args.sales} sales, median "
          f"{share:.1f} MB (runs: {', '.join(f'{v:.1f}' for v in shares)}); till RSS median "
          f"{statistics.median(tills):.0f} MB, bare Kivy button {statistics.median(bares):.0f} MB; "
          f"target <= {TARGET_MB:.0f} MB: {'met' if share <= TARGET_MB else 'MISSED'}")
    if printers:
        print(f"    the print process beside it: PSS median {statistics.median(printers):.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
