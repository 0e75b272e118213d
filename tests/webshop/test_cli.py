"""`kassa webshop ...` and `kassa stock set-level` as the owner runs them: the sync loop (the
service), set-stock, parked, a log cut off by `| head`, and SKUs head office never saw."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from headoffice.customers.service import now_iso
from headoffice.orm import write_transaction
from headoffice.stock import ledger
from headoffice.webshop.models import WebshopLog
from tests.customers.fake_woo import KEY, SECRET, FakeWoo

ROOT = Path(__file__).resolve().parents[2]


def env(woo: FakeWoo | None = None) -> dict[str, str]:
    extra = {"KASSA_WC_URL": woo.url, "KASSA_WC_KEY": KEY, "KASSA_WC_SECRET": SECRET} if woo else {}
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def kassa(url: str, *args: str, woo: FakeWoo | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args[:1], "--db", url, *args[1:]],
                          cwd=ROOT, env=env(woo), capture_output=True, text=True, timeout=120)


def test_log_cut_off_by_head_ends_quietly(office_db_url):
    with write_transaction():
        for n in range(50):
            WebshopLog.create(at=now_iso(), shop="woocommerce", action="push_stock", ok=False,
                              target=f"plu:{n}", detail="x" * 3000)
    shell = subprocess.run(
        f"{sys.executable} -m cli webshop --db '{office_db_url}' log | head -1",
        shell=True, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=120)
    assert shell.stdout.count("\n") == 1 and "push_stock" in shell.stdout
    assert "Error" not in shell.stderr and "Traceback" not in shell.stderr, shell.stderr


def test_set_level_and_set_stock_refuse_a_sku_never_seen(office_db_url):
    unknown = kassa(office_db_url, "stock", "set-level", "s1", "plu:4242", "2", "10")
    assert unknown.returncode == 1 and "plu:4242 is unknown at head office" in unknown.stdout
    refused = kassa(office_db_url, "webshop", "set-stock", "plu:4242", "5")
    assert refused.returncode == 1 and "unknown at head office" in refused.stderr
    with write_transaction():
        ledger.note_product("plu:7", "Brood", 289)
    done = kassa(office_db_url, "webshop", "set-stock", "plu:7", "30")
    assert done.returncode == 0, done.stderr
    assert ledger.level("webshop", "plu:7") == 30
    level = kassa(office_db_url, "stock", "set-level", "webshop", "plu:7", "2", "10")
    assert level.returncode == 0, level.stdout


def test_sync_loop_runs_rounds_until_stopped_and_shows_no_credentials(office_db_url):
    with FakeWoo() as woo:
        woo.add_product("plu:1", stock=12)
        gift = woo.add_product("GIFT-25", stock=5)
        oid = woo.checkout([("GIFT-25", 1)])
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "webshop", "--db", office_db_url, "sync", "--loop",
             "0.5"], cwd=ROOT, env=env(woo), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and WebshopLog.select().where(
                    WebshopLog.action == "sync").count() < 3:
                time.sleep(0.2)
            woo.fail_orders = 5  # a round whose pull fails (after retries) does not stop it
            failed = WebshopLog.select().where(WebshopLog.action == "pull_orders",
                                               WebshopLog.ok == False)  # noqa: E712
            while time.monotonic() < deadline + 30 and not failed.exists():
                time.sleep(0.2)
            rounds = WebshopLog.select().where(WebshopLog.action == "sync").count()
            while time.monotonic() < deadline + 30 and WebshopLog.select().where(
                    WebshopLog.action == "sync").count() < rounds + 2:
                time.sleep(0.2)
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=30)
        assert WebshopLog.select().where(WebshopLog.action == "sync").count() >= 3, err
        assert "linked: stock of 1 SKU(s) imported" in out
        assert "parked: 1" in out and "FAILED" in out
        assert SECRET not in out + err and KEY not in out + err
        assert ledger.level("webshop", "plu:1") == 12
        parked = kassa(office_db_url, "webshop", "parked")
        assert f"{oid} (processing): line" in parked.stdout and "GIFT-25" in parked.stdout
        woo.products[gift]["sku"] = "plu:1"
        again = kassa(office_db_url, "webshop", "retry", str(oid), woo=woo)
        assert again.returncode == 0 and "new, 1 stock move(s)" in again.stdout, again.stderr
        assert ledger.level("webshop", "plu:1") == 11


def test_the_unit_runs_the_loop_with_credentials_from_its_environment_files():
    import shlex

    from cli import build_parser

    unit = (ROOT / "systemd" / "kassa-webshop.service").read_text()
    assert "EnvironmentFile=/etc/kassa/webshop.env" in unit
    exec_start = unit.split("ExecStart=", 1)[1].split("\nRestart=")[0].replace("\\\n", " ")
    argv = shlex.split(exec_start.replace("${KASSA_WEBSHOP_FULFIL_FROM}", "webshop"))
    assert argv[0].endswith("/kassa") and not any("KEY" in a or "SECRET" in a for a in argv)
    args = build_parser().parse_args(argv[1:])
    assert (args.webshop_command, args.loop, args.fulfil_from) == ("sync", 60.0, "webshop")
    assert (ROOT / "docs" / "operations" / "webshop.md").is_file()


def test_kill_9_in_the_middle_of_sync_rounds_takes_each_order_once(office_db_url):
    import random
    import signal

    from headoffice.webshop.models import WebshopOrder
    from tests.webshop.test_orders import SKUS, office_levels, stocked

    rng = random.Random(7)
    with FakeWoo() as woo:
        stocked(woo, 500)
        assert kassa(office_db_url, "webshop", "sync", woo=woo).returncode == 0
        ids = [woo.checkout([(rng.choice(SKUS), rng.randint(1, 3))]) for _ in range(150)]
        for oid in rng.sample(ids, 40):
            woo.set_status(oid, rng.choice(["cancelled", "completed", "refunded"]))
        kills = 0
        for _ in range(3):
            before = WebshopOrder.select().count()
            proc = subprocess.Popen([sys.executable, "-m", "cli", "webshop", "--db",
                                     office_db_url, "sync"], cwd=ROOT, env=env(woo),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline \
                    and WebshopOrder.select().count() < before + 20:
                time.sleep(0.005)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(10)
        assert kills >= 1 and WebshopOrder.select().count() < len(ids)
        done = kassa(office_db_url, "webshop", "sync", woo=woo)
        assert done.returncode == 0, done.stdout + done.stderr
        assert WebshopOrder.select().count() == len(ids)
        expected = {sku: 500 for sku in SKUS}
        for order in woo.orders:
            if order["status"] in ("processing", "on-hold", "completed"):
                item = order["line_items"][0]
                expected[woo.products[item["product_id"]]["sku"]] -= item["quantity"]
        assert office_levels() == expected == woo.stock()
