"""Resident memory of the till UI after 200 sales (target <= 150 MB).

Measured on a terminal whose database already exists (a first run creates the keys, demo
users and catalogue, as the startup benchmark does): the till restarted by systemd, not the
one-off catalogue import. The sales go through the screens' own code paths (scan on the sale
screen, cash on the payment screen, the done screen, back to the sale screen), a few per frame so every screen
is drawn. Reference, same run: the same process's RSS at its first interactive frame, and a
bare Kivy app with one button.

Run: .venv/bin/python bench/bench_ui_memory.py [--sales 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

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
                        "parts": rss_breakdown(),
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sales", type=int, default=200)
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
    with xvfb() as display:
        run_child(Path(__file__), "prepare", display, "--var", var)
        till, _ = run_child(Path(__file__), "till", display, "--sales", str(args.sales), "--var", var)
        bare, _ = run_child(Path(__file__), "bare", display)
    print(f"RSS after {till['sales']} sales through the UI: {till['rss']:.0f} MB "
          f"(at the first frame: {till['rss_start']:.0f} MB, "
          f"growth {till['rss'] - till['rss_start']:.1f} MB); "
          f"bare Kivy button: {bare['rss']:.0f} MB; target <= 150 MB: "
          f"{'met' if till['rss'] <= 150 else 'MISSED'}")
    print(f"  {'resident MB by mapping':58s} {'till':>6s} {'bare':>6s} {'till-bare':>9s}")
    for part in sorted(set(till["parts"]) | set(bare["parts"]), key=lambda p: -till["parts"].get(p, 0)):
        t, b = till["parts"].get(part, 0.0), bare["parts"].get(part, 0.0)
        print(f"  {part:58s} {t:6.1f} {b:6.1f} {t - b:+9.1f}")
    print(f"  the till's own share (till - bare, same renderer): {till['rss'] - bare['rss']:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
