"""Receipt rendering: a 30-line ticket through the escpos Dummy printer (target <= 5 ms).

Figure: EscposPrinter.print_document (check the document, clean text for the code page,
lay out, styles, native QR, cut) into a Dummy. Reference, same run: a bare python-escpos
Dummy writing the same 30 lines as plain text with textln() and a cut.

Run: .venv/bin/python bench/bench_receipt_render.py [--runs 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escpos.printer import Dummy  # noqa: E402

from drivers.printer.factory import open_printer  # noqa: E402

TARGET_MS = 5.0


def ticket(columns: int = 42) -> dict:
    blocks = [
        {"kind": "text", "text": "Bakkerij Één", "align": "center", "bold": True, "double": True},
        {"kind": "text", "text": "Dorpsstraat 1, 3512 AB Utrecht", "align": "center"},
        {"kind": "text", "text": "BTW NL000099998B57", "align": "center"},
        {"kind": "rule"},
    ]
    for i in range(30):
        name = f"Crème brûlée nr {i:02d}"
        price = f"€ {i + 1},95"
        blocks.append({"kind": "text", "text": name + price.rjust(columns - len(name))})
    blocks += [
        {"kind": "rule"},
        {"kind": "text", "text": "TOTAAL          € 524,50", "align": "right", "bold": True,
         "double": True},
        {"kind": "text", "text": "BTW 9%  € 43,31   BTW 21%  € 12,00"},
        {"kind": "qr", "data": "https://kassa.example/r/dev-store/dev-till-1/000123"},
        {"kind": "feed", "lines": 2},
        {"kind": "cut"},
    ]
    return {"columns": columns, "copy": False, "blocks": blocks}


def timed(fn, runs: int) -> list[float]:
    for _ in range(min(50, runs)):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return f"median {statistics.median(samples):.3f} ms, p99 {p99:.3f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()

    document = ticket()
    printer = open_printer("dummy", profile="TM-T88III", columns=42)

    def ours() -> None:
        printer.print_document(document)
        printer.dummy.clear()

    lines = [b["text"] for b in document["blocks"] if b["kind"] == "text"]
    bare = Dummy(profile="TM-T88III")

    def reference() -> None:
        for line in lines:
            bare.textln(line)
        bare.cut()
        bare.clear()

    size = len(printer.render(document))
    ours_ms = timed(ours, args.runs)
    ref_ms = timed(reference, args.runs)
    median = statistics.median(ours_ms)
    print(f"receipt render, 30-line ticket ({size} bytes), {args.runs} runs")
    print(f"  kassa EscposPrinter -> Dummy : {describe(ours_ms)}")
    print(f"  reference bare Dummy textln  : {describe(ref_ms)}")
    print(f"  target <= {TARGET_MS} ms: {'met' if median <= TARGET_MS else 'NOT met'} "
          f"(median {median:.3f} ms, {median / statistics.median(ref_ms):.1f}x the bare Dummy)")
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
