"""Real tills whose journals reach a head-office database through the ingest's own code."""

from __future__ import annotations

from pathlib import Path

from cli.assemble import build_till
from contract import wire
from contract.config import parse_config
from firmware.permissions import Action
from firmware.sim import MANAGER_PIN, ensure_demo_data, run_day
from firmware.till import TillService


def make_till(tmp: Path, store: str = "s1", terminal: str = "t1") -> TillService:
    tmp.mkdir(parents=True, exist_ok=True)
    text = (f'[terminal]\nstore = "{store}"\nterminal = "{terminal}"\n'
            f'signing_key = "{tmp / "journal.pem"}"\n[database]\npath = "{tmp / "kassa.sqlite3"}"\n')
    (tmp / "kassa.toml").write_text(text)
    till = build_till(parse_config(text, str(tmp / "kassa.toml"), var_dir=str(tmp / "var")))
    ensure_demo_data(till, products=40)
    return till


def shop_day(till: TillService, sales: int = 40, seed: int = 3) -> None:
    """A sim day, a manual price, a no-sale, and a Z close with a cash shortfall of 7.50."""
    run_day(till, sales, seed, out=lambda _line: None)
    till.login("1111")
    line = till.add_plu("1")
    till.override_price(line.line_no, 1, approval=till.approve(MANAGER_PIN, Action.PRICE_OVERRIDE))
    till.pay_card(None, "REF1")
    till.no_sale("wisselgeld", approval=till.approve(MANAGER_PIN, Action.NO_SALE))
    expected = till.x_report().entry.body["data"]["cash"]["expected"]
    counted = max(expected - 750, 0)
    till.z_close({1: counted}, approval=till.approve(MANAGER_PIN, Action.Z_CLOSE))
    till.logout()


def payloads(till: TillService) -> list[tuple[str, bytes, str]]:
    out, prev = [], "0" * 64
    for entry in till.journal.entries():
        topic = wire.terminal_topic(till.journal.store, till.journal.terminal, "journal")
        out.append((topic, wire.encode_journal(entry.body_text, entry.hash, entry.sig, prev),
                    str(entry.seq)))
        prev = entry.hash
    return out


def feed(db, messages: list[tuple[str, bytes, str]], batch: int = 50) -> None:
    """Stores messages exactly as an ingest worker does: check, then one batch per commit."""
    from headoffice.ingest.store import Rejected, store_batch
    from headoffice.ingest.validate import KeyCache, Refusal, check_message

    keys = KeyCache()
    for start in range(0, len(messages), batch):
        candidates, rejected = [], []
        for topic, payload, seq in messages[start:start + batch]:
            outcome = check_message(topic, payload, seq, keys)
            if isinstance(outcome, Refusal):
                rejected.append(Rejected(topic, payload, outcome))
            else:
                candidates.append((topic, payload, outcome))
        store_batch(db, candidates, rejected, [])


def enroll(till: TillService) -> None:
    from contract.keys import public_key_hex
    from headoffice import registry

    registry.add_terminal(till.journal.terminal, till.journal.store, public_key_hex(till.journal.key))


class OfficeWeb:
    """`kassa office web` as its own process, and a logged-in HTTP client for its pages."""

    def __init__(self, db_url: str, settings: Path | None = None, user: str = "baas",
                 password: str = "geheim-wachtwoord", web_args: tuple[str, ...] = (),
                 ca_file: Path | None = None) -> None:
        """`user` is made an owner; with `ca_file` the server speaks HTTPS (give its TLS
        options in `web_args`) and the client trusts only that CA, for https://localhost."""
        from headoffice.web.users import add_user
        from tests.fixtures_services import free_port, wait_for_port
        from tests.uplink.harness import kassa

        add_user(user, password, replace=True)
        self.port = free_port()
        args = ["office", "--db", db_url, "web", "--port", str(self.port), "--no-alerts",
                *web_args]
        if settings is not None:
            args += ["--settings", str(settings)]
        self.proc = kassa(*args)
        wait_for_port(self.port, 20, self.proc)
        self.base = (f"https://localhost:{self.port}" if ca_file
                     else f"http://127.0.0.1:{self.port}")
        self.ca_file = ca_file
        self.user, self.password = user, password
        self.opener = self.client()

    def client(self):
        """A new cookie-keeping HTTP(S) client (one browser of one user)."""
        import http.cookiejar
        import ssl
        import urllib.request

        handlers: list = [urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())]
        if self.ca_file:
            handlers.append(urllib.request.HTTPSHandler(
                context=ssl.create_default_context(cafile=str(self.ca_file))))
        return urllib.request.build_opener(*handlers)

    def login(self) -> None:
        import urllib.parse

        form = urllib.parse.urlencode({"name": self.user, "password": self.password}).encode()
        with self.opener.open(self.base + "/login", data=form, timeout=10) as response:
            assert "/login" not in response.url, "login refused"

    def get(self, path: str) -> tuple[int, str]:
        """(status, body) of a page; errors are answers too (a 404 is a result, not a raise)."""
        import urllib.error

        try:
            with self.opener.open(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def stop(self) -> None:
        from tests.uplink.harness import stop

        stop(self.proc)
