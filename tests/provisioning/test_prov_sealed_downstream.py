"""Sealed downstream messages over the fleet's generated mTLS broker config: head office
publishes with its ingest certificate on the head-office listener, the till runs from its
enrollment bundle (certificate, key and the pinned head-office key) on the terminal listener.
A message head office sealed for another store, delivered on this store's topic (a broker
misroute or a replay by someone who can publish there), is refused and journaled."""

from __future__ import annotations

import shutil

from test_prov_broker import Secured, secured  # noqa: F401 - the mTLS broker fixture

from contract import wire
from firmware.downstream_log import journal_waiting
from firmware.kernel import TillKernel
from firmware.models import Product
from firmware.uplink.downstream import applied_version
from firmware.users import Users
from headoffice.broker import BrokerSettings, publisher
from headoffice.downstream_send import send_downstream
from tests.sealkit import OfficeKeys
from tests.uplink.harness import make_till, start_uplink, stop, wait_until

COLA = {"gtin": "8712345678906", "name": "Cola", "price_cents": 199, "vat_code": "low"}


def test_sealed_catalogue_over_mtls_and_a_misrouted_one_refused(secured: Secured) -> None:  # noqa: F811
    b = secured.bundle("t1")
    till_dir = secured.tmp / "till-t1"
    till_dir.mkdir()
    shutil.copyfile(b / "journal_ed25519.pem", till_dir / "journal_ed25519.pem")
    tls = (f'ca_file = "{b / "ca.crt"}"\ncert_file = "{b / "client.crt"}"\n'
           f'key_file = "{b / "client.key"}"\n')
    till = make_till(till_dir, secured.port, store="s1", terminal="t1", extra_mqtt=tls,
                     office_public_key=b / "office_ed25519.pub")  # as the bundle pins it
    office = OfficeKeys(secured.tmp / "office-key")  # the key the fleet pinned (provkit)
    target = BrokerSettings(port=secured.ingest_port, ca_file=str(secured.fleet / "ca" / "ca.crt"),
                            cert_file=str(secured.fleet / "ingest" / "ingest.crt"),
                            key_file=str(secured.fleet / "ingest" / "ingest.key"))
    uplink = start_uplink(till)
    try:
        with publisher(target, "ho-downstream") as send:
            send_downstream(send, "catalogue", "s1",
                            {"version": 1, "mode": "full", "products": [COLA]}, office.key)
            wait_until(lambda: applied_version("catalogue_version") == 1, 30,
                       "the sealed catalogue applied over mTLS")
            # sealed by head office for store s2, delivered on s1's topic
            misrouted = office.seal("catalogue", "s2", {"version": 2, "mode": "full",
                                                        "products": [{**COLA, "price_cents": 5}]})
            send(wire.store_topic("s1", "catalogue"), misrouted, True)
        kernel = TillKernel(_config(till), till.db, till.journal, Users(3, 60))
        wait_until(lambda: journal_waiting(kernel) >= 0 and any(
            e.type == "downstream_refused" for e in till.journal.entries()), 30,
            "the misrouted catalogue refused and journaled")
        [refused] = [e.body["data"] for e in till.journal.entries()
                     if e.type == "downstream_refused"]
        assert refused["reason"].startswith("foreign: catalogue message: signed for store 's2'")
        assert Product.get(Product.gtin == "08712345678906").price_cents == 199
        assert applied_version("catalogue_version") == 1
    finally:
        stop(uplink)


def _config(till):  # noqa: ANN001, ANN202
    from contract.config import load_config

    return load_config(till.config_path)
