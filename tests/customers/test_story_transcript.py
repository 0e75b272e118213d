"""One customer's story end to end, written down as it runs: sign-up at the till, a webshop
order and its cancellation, an offer, her request for her data, erasure.

Real parts throughout: Mosquitto, `kassa office ingest` and `kassa uplink` as processes,
the till service as the touchscreen drives it, the WooCommerce stand-in
(tests/customers/fake_woo.py), an SMTP server (aiosmtpd), and every head-office step as
the `kassa` command the owner types. The test writes the commands and their actual output
to test-artifacts/customer-story.md; docs/customer-story.md quotes a run of it, and the
last test here checks the doc still shows the same commands in the same order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from contract.product_key import sku_of
from firmware.models import JournalEntry, LocalCustomer, LocalOffer, PendingSignup, Product
from headoffice import registry
from headoffice.customers import service
from headoffice.customers.models import Customer
from headoffice.db import database_proxy, open_office_db
from headoffice.orm import write_transaction
from headoffice.stock import ledger
from headoffice.webshop.models import WebshopOrder
from tests.customers.fake_woo import KEY, SECRET, FakeWoo
from tests.customers.test_customer_story import Tills, smtp, start_uplink_for  # noqa: F401
from tests.sealkit import office_keys
from tests.uplink.harness import start_ingest, stop, wait_until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "customer-story.md"
DOC = ROOT / "docs" / "customer-story.md"
EMAIL, NAME = "noor.jansen@example.nl", "Noor Jansen"


class Transcript:
    """Markdown: what happens, each command as typed and what it printed."""

    def __init__(self, env: dict[str, str], shown: dict[str, str]) -> None:
        self.env, self.shown, self.parts = env, shown, []
        self.commands: list[str] = []

    def _plain(self, text: str) -> str:
        for real, short in self.shown.items():
            text = text.replace(real, short)
        return text

    def say(self, text: str) -> None:
        self.parts.append(text.strip() + "\n")

    def till(self, *lines: str) -> None:
        self.parts.append("```\n" + "\n".join(f"[till shopA/tillA1] {line}" for line in lines)
                          + "\n```\n")

    def kassa(self, *args: str, expect: int = 0) -> str:
        proc = subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=180)
        output = (proc.stdout + proc.stderr).rstrip()
        assert proc.returncode == expect, f"kassa {args}: {proc.returncode}\n{output}"
        self._command("$ kassa " + " ".join(shlex.quote(a) for a in args), output,
                      proc.returncode)
        return proc.stdout

    def shell(self, command: str, expect: int = 0) -> str:
        proc = subprocess.run(command, shell=True, cwd=self.env["STORY_DIR"], env=self.env,
                              capture_output=True, text=True, timeout=60)
        output = (proc.stdout + proc.stderr).rstrip()
        assert proc.returncode == expect, f"{command}: {proc.returncode}\n{output}"
        self._command("$ " + command, output, proc.returncode)
        return proc.stdout

    def _command(self, line: str, output: str, code: int) -> None:
        line = self._plain(line)
        self.commands.append(line)
        status = f"\n(exit status {code})" if code else ""
        self.parts.append(f"```\n{line}\n{self._plain(output)}{status}\n```\n")

    def text(self) -> str:
        return "\n".join(self.parts)


def test_one_customers_story_as_a_transcript(tmp_path, mosquitto, smtp, monkeypatch):  # noqa: F811
    inbox, smtp_port = smtp
    broker = mosquitto()
    office_file = tmp_path / "office.sqlite3"
    url = f"sqlite:///{office_file}"
    db = open_office_db(url)
    keys = office_keys(tmp_path, monkeypatch)
    shop = Tills(tmp_path / "tillA1", broker.port, keys.mqtt_line())
    till = shop.till
    registry.add_terminal("tillA1", "shopA", till.journal.public_key.public_bytes_raw().hex())
    bread = Product.get(Product.plu == "4")
    sku = sku_of(bread.gtin, bread.plu)
    with write_transaction():  # head office's product master knows what the till sells
        ledger.note_product(sku, bread.name, bread.price_cents)
    ingest = start_ingest(url, broker.port, workers=1, prefix="story-ingest")
    uplink = start_uplink_for(shop)
    woo = FakeWoo().__enter__()
    woo.add_product(sku, stock=10, price="2.89")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KASSA_WC_URL": woo.url,
           "KASSA_WC_KEY": KEY, "KASSA_WC_SECRET": SECRET, "STORY_DIR": str(tmp_path)}
    t = Transcript(env, {url: "$OFFICE_DB", str(tmp_path) + "/": "", str(tmp_path): ".",
                         f"--mqtt-port {broker.port}": "--mqtt-port $MQTT_PORT",
                         f"--smtp-port {smtp_port}": "--smtp-port $SMTP_PORT",
                         woo.url: "$WOOCOMMERCE"})
    sync = ("customers", "--db", url, "sync", "--mqtt-port", str(broker.port),
            "--smtp-port", str(smtp_port), "--base-url", "https://bakkerij.example")

    def acked() -> bool:
        return shop.acked() == shop.head()

    try:
        # 1. sign-up at the till
        t.say("## 1. Noor signs up at the till\n\nSanne, the cashier, taps Zoeken > Klanten > "
              "Klant aanmelden, types Noor's address and name on the on-screen keyboard and "
              "reads out the consent question (text version 2026-1); Noor says yes. The till "
              "keeps the sign-up in its outbox (not in the journal) until head office has it.")
        till.login("1111")
        journal_before = JournalEntry.select().count()
        receipt = till.sign_up(EMAIL, NAME, consent=True)
        kept = PendingSignup.select().count()
        wait_until(lambda: Customer.get_or_none(Customer.email == EMAIL) is not None, 30,
                   "the sign-up at head office")
        wait_until(lambda: PendingSignup.select().count() == 0, 30, "the acknowledgement")
        grew = JournalEntry.select().count() - journal_before
        t.till(f"Sanne signs up {EMAIL} ({NAME}), marketing e-mail: yes (text 2026-1)",
               f"outbox: {kept} sign-up {receipt.signup_id}; journal entries added: {grew}",
               "head office acknowledged it: outbox now "
               f"{PendingSignup.select().count()} sign-ups")
        assert (kept, grew) == (1, 0)
        t.kassa("customers", "--db", url, "list", "noor")

        t.say("`customers sync` sends the tills the customers and offers (her new card "
              "with them). Noor pays twice with her card, a week apart.")
        t.kassa(*sync)
        noor = service.get(EMAIL)
        wait_until(lambda: LocalCustomer.select().where(LocalCustomer.card == noor.card)
                   .exists(), 30, "her card at the till")
        for days_ago in (8, 1):
            day = dt.datetime.now().astimezone() - dt.timedelta(days=days_ago)
            till.journal.clock = lambda day=day: day.isoformat(timespec="milliseconds")
            till.scan(noor.card)
            till.add_product(bread.id)
            sale = till.pay_card(None, f"R{days_ago}").entry
            t.till(f"{day:%Y-%m-%d}: card {noor.card} scanned, {bread.name} "
                   f"{bread.price_cents / 100:.2f} paid by card (journal entry {sale.seq})")
        till.journal.clock = lambda: dt.datetime.now().astimezone().isoformat(
            timespec="milliseconds")
        wait_until(acked, 30, "head office to confirm the journal")
        t.kassa(*sync)

        # 2. webshop order and its cancellation
        t.say("## 2. A webshop order, then its cancellation\n\nThe first sync links the "
              "webshop (imports its stock). Noor orders 2 online; the sync takes the order. "
              "She cancels it in the webshop; the next sync gives the 2 back.")
        t.kassa("webshop", "--db", url, "sync")
        order = woo.checkout([(sku, 2)], email=EMAIL)
        t.kassa("webshop", "--db", url, "sync")
        t.kassa("stock", "--db", url, "levels", "--location", "webshop")
        assert ledger.level("webshop", sku) == 8
        woo.set_status(order, "cancelled")
        t.kassa("webshop", "--db", url, "sync")
        t.kassa("stock", "--db", url, "levels", "--location", "webshop")
        assert ledger.level("webshop", sku) == 10

        # 3. an offer
        t.say("## 3. An offer\n\nA campaign computes offers from purchase history (Noor "
              f"bought {bread.name} on two days), the offer mail goes out, the till gets the offer "
              "and applies it when her card is scanned.")
        t.kassa("offers", "--db", url, "campaign", "Lente", "--percent", "20", "--budget", "50",
                "--days", "14", "--uses", "1")
        t.kassa("offers", "--db", url, "mail", "--smtp-port", str(smtp_port),
                "--base-url", "https://bakkerij.example")
        t.kassa(*sync)
        wait_until(lambda: LocalOffer.select().where(LocalOffer.customer_id == noor.customer_id)
                   .exists(), 30, "the offer at the till")
        till.scan(noor.card)
        line = till.add_product(bread.id)
        discount = till.ticket.line(line.line_no).discount
        sale = till.pay_card(None, "R0").entry
        t.till(f"card {noor.card} scanned, {bread.name}: offer applied, "
               f"{discount / 100:.2f} off (journal entries {sale.seq} and {sale.seq + 1})")
        assert discount == (bread.price_cents * 20 + 50) // 100
        wait_until(acked, 30, "head office to confirm the redemption")
        t.kassa(*sync)
        t.kassa("offers", "--db", url, "report")

        # 4. right of access
        t.say("## 4. Noor asks for her data\n\nThe export writes JSON and a PDF; here the "
              "consent log and the counts from the JSON.")
        t.kassa("customers", "--db", url, "export", EMAIL, "--asked-by", "Noor (at the counter)",
                "--out", str(tmp_path / "export"))
        [exported] = (tmp_path / "export").glob("gegevens-*.json")
        t.shell("python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                "print(json.dumps(d[\"consent_log\"], indent=1)); "
                "print({k: len(v) for k, v in d.items() if isinstance(v, list)})' "
                "export/gegevens-*.json")
        data = json.loads(exported.read_text())
        [log] = data["consent_log"]
        assert (log["recorded_by"], log["text_version"]) == ("Sanne (shopA/tillA1)", "2026-1")
        assert len(data["purchases"]) == 3 and len(data["offers"]) == 1
        t.say("The two files are handed to Noor; the shop keeps no copy.")
        t.shell("rm -r export")

        # 5. erasure
        t.say("## 5. Erasure\n\nHead office erases her; the next sync takes her card off the "
              "till. No database file or WAL of head office or the till still holds her "
              "name, address or card.")
        t.kassa("customers", "--db", url, "erase", EMAIL)
        t.kassa(*sync)
        wait_until(lambda: not LocalCustomer.select().where(
            LocalCustomer.card == noor.card).exists(), 30, "her card off the till")
        t.kassa("customers", "--db", url, "list", "noor")
        t.kassa("offers", "--db", url, "report")
        assert WebshopOrder.get(WebshopOrder.order_id == str(order)).email == ""
        grep = (f"grep -a -l -F -e {shlex.quote(EMAIL)} -e {shlex.quote(NAME)} "
                f"-e {noor.card} office.sqlite3* tillA1/kassa.sqlite3*")

        def clean() -> bool:
            return subprocess.run(grep, shell=True, cwd=tmp_path, capture_output=True
                                  ).returncode == 1

        wait_until(clean, 15, "her name, address and card gone from every file")
        t.shell("ls office.sqlite3* tillA1/kassa.sqlite3*")
        t.shell(grep, expect=1)  # 1: no file holds any of them
        assert till.journal.verify().ok
    finally:
        stop(uplink)
        stop(ingest)
        woo.__exit__(None, None, None)
        till.db.close()
        db.close()
        database_proxy.initialize(None)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(t.text())
    (ARTIFACT.parent / "customer-story-commands.json").write_text(json.dumps(t.commands,
                                                                            indent=1))


def test_the_doc_shows_the_story_the_test_runs():
    """docs/customer-story.md quotes a run of the test above: the same commands, in order."""
    commands = ARTIFACT.parent / "customer-story-commands.json"
    if not commands.exists():
        pytest.fail("run test_one_customers_story_as_a_transcript first (it writes "
                    f"{commands.relative_to(ROOT)})")
    def plain(lines: list[str]) -> list[str]:  # a loyalty card number differs per run
        return [re.sub(r"\b\d{13}\b", "<card>", line) for line in lines]

    in_doc = [line for line in DOC.read_text().splitlines() if re.match(r"\$ ", line)]
    assert plain(in_doc) == plain(json.loads(commands.read_text()))
