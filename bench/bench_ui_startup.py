"""Cold start of the till UI to its first interactive frame under Xvfb. Target: <= 2x a
bare Kivy window's cold start on the same renderer, in the same run.

Measured from spawning the process (interpreter start, imports, database, catalogue, kv
rules, screens) to the first window flip after on_start, when the login keypad takes
touches, on a terminal whose database already exists (the first start, which creates keys
and demo data, is not counted). Reference, same run and display: a bare Kivy app with one
button; till and bare window alternate, so a busy minute on a shared machine hits both. Also
printed: the CPU time each process used until that frame (all its threads; what other jobs
on a shared machine cannot inflate).

Python reads the modules' bytecode from `__pycache__`, as on a till, where pip wrote it at
install: a shell with PYTHONDONTWRITEBYTECODE set would otherwise make every till start
compile Kassa's ~750 KB of source (~0.1 s of CPU that the bare window, all of whose modules
come with bytecode, does not pay). `--source` measures that: before every start the
`__pycache__` of Kassa's own packages is removed and none is written, so each start compiles
them (the libraries keep theirs, as before).

Run: .venv/bin/python bench/bench_ui_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ui_common import after_first_frame, bare_app, report, run_child, till_app  # noqa: E402

from tests.ui.xvfb import xvfb  # noqa: E402

TARGET_RATIO = 2.0


def child(mode: str, var_dir: str) -> None:
    app = till_app(var_dir=var_dir) if mode == "till" else bare_app()

    def ready() -> None:
        report({"ready": time.time(), "cpu": time.process_time()})
        app.stop()

    after_first_frame(app, ready)
    app.run()


OWN_PACKAGES = ("cli", "contract", "drivers", "firmware", "ui", "tests", "bench")


def _drop_own_bytecode() -> None:
    """Kassa's own `__pycache__` removed (build products, ignored by git), for --source."""
    root = Path(__file__).resolve().parent.parent
    for package in OWN_PACKAGES:
        for cache in (root / package).rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child")
    parser.add_argument("--var", default="")
    parser.add_argument("--source", action="store_true",
                        help="compile Kassa's own modules from source at every start")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.var)
        return 0
    times: dict[str, list[float]] = {"till": [], "bare": []}
    cpu: dict[str, list[float]] = {"till": [], "bare": []}
    var = tempfile.mkdtemp(prefix="kassa-bench-start-")
    with xvfb() as display:
        bytecode = not args.source
        for mode in times:  # first start: demo data, keys; bytecode written
            run_child(Path(__file__), mode, display, "--var", var, bytecode=bytecode)
        for _ in range(args.runs):
            for mode in times:
                if not bytecode:
                    _drop_own_bytecode()
                result, spawned = run_child(Path(__file__), mode, display, "--var", var,
                                            bytecode=bytecode)
                times[mode].append(result["ready"] - spawned)
                cpu[mode].append(result["cpu"])
    till, bare = statistics.median(times["till"]), statistics.median(times["bare"])
    ratios = [t / b for t, b in zip(times["till"], times["bare"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"cold start to first interactive frame: till UI {till:.2f} s (median of {args.runs}), "
          f"bare Kivy button {bare:.2f} s; same-run ratio median {ratio:.2f} (runs: "
          f"{', '.join(f'{t:.2f}/{b:.2f}' for t, b in zip(times['till'], times['bare'], strict=True))}"
          f"){'' if bytecode else ', modules compiled from source'}"
          f"; target ratio <= {TARGET_RATIO:.1f}: {'met' if ratio <= TARGET_RATIO else 'MISSED'}")
    cpu_ratio = statistics.median(t / b for t, b in zip(cpu["till"], cpu["bare"], strict=True))
    print(f"CPU time until that frame: till UI {statistics.median(cpu['till']):.2f} s, bare Kivy "
          f"button {statistics.median(cpu['bare']):.2f} s (medians); same-run ratio median "
          f"{cpu_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
