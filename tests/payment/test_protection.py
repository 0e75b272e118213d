"""The shared-key protection and the [payment] settings: a foreign or altered message is
refused by type, secrets must be 0600, a bad setting names its key."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from cli.assemble import build_till
from cli.payment_wiring import build_terminal
from contract.config import ConfigError, parse_config
from drivers.payment.adyen import AdyenTerminal, SecretFileError, read_secret
from drivers.payment.crypto import ProtectionError, SharedKey, protect, unprotect
from drivers.payment.nexo import MessageError, payment_request
from drivers.payment.sim import SimTerminal
from tests.fixtures_till import make_config
from tests.payment.conftest import payment_config

KEY = SharedKey("kassa-key", "right passphrase", 1)


def _message() -> dict:
    return payment_request("t1", "a1b2c3d4e5", "P400Plus-1", "T-1", 1234)


def test_a_protected_message_opens_with_the_same_key_only() -> None:
    message = _message()  # once: its TimeStamp is the second it was built in
    sealed = protect(copy.deepcopy(message), KEY)
    inner = sealed["SaleToPOIRequest"]
    assert "PaymentRequest" not in inner and inner["MessageHeader"]["ServiceID"] == "a1b2c3d4e5"
    assert unprotect(json.loads(json.dumps(sealed)), KEY) == message
    with pytest.raises(ProtectionError):  # padding or HMAC, whichever fails first
        unprotect(sealed, SharedKey("kassa-key", "wrong passphrase", 1))
    forged = json.loads(json.dumps(sealed))
    forged["SaleToPOIRequest"]["SecurityTrailer"]["Hmac"] = "A" * 43 + "="
    with pytest.raises(ProtectionError, match="HMAC does not match"):
        unprotect(forged, KEY)
    with pytest.raises(ProtectionError, match="not the configured key"):
        unprotect(sealed, SharedKey("kassa-key", "right passphrase", 2))


def test_an_altered_blob_is_refused() -> None:
    sealed = protect(_message(), KEY)
    blob = bytearray(sealed["SaleToPOIRequest"]["NexoBlob"].encode())
    blob[10] = ord("A") if blob[10] != ord("A") else ord("B")
    sealed["SaleToPOIRequest"]["NexoBlob"] = blob.decode()
    with pytest.raises(ProtectionError):
        unprotect(sealed, KEY)
    with pytest.raises(ProtectionError, match="SecurityTrailer"):
        unprotect({"SaleToPOIRequest": {"MessageHeader": {}}}, KEY)


def test_a_terminal_with_another_key_is_not_believed(tmp_path: Path) -> None:
    sim = SimTerminal(SharedKey("kassa-key", "the shop's other key", 1), directory=tmp_path)
    sim.start()
    try:
        till_side = AdyenTerminal(sim.url, sim.poiid, "t1", key=KEY, ca_file=str(sim.cert_file),
                                  timeout=3)
        with pytest.raises(OSError):  # the terminal refuses what it cannot open (HTTP 400)
            till_side.pay(100, "a1", "T-1")
        assert sim.refused and not sim.charges
    finally:
        sim.stop()


def test_secret_files_must_be_0600(tmp_path: Path) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text("x\n")
    secret.chmod(0o644)
    with pytest.raises(SecretFileError, match="chmod 600") as caught:
        read_secret(str(secret))
    assert caught.value.path == str(secret)
    secret.chmod(0o600)
    assert read_secret(str(secret)) == "x"
    with pytest.raises(SecretFileError, match="cannot be read"):
        read_secret(str(tmp_path / "missing"))


def test_a_readable_passphrase_stops_the_till_with_the_key(tmp_path: Path,
                                                          terminal: SimTerminal) -> None:
    config = payment_config(tmp_path, terminal)
    Path(config.payment.key_passphrase_file).chmod(0o640)
    till = build_till(config)
    with pytest.raises(ConfigError, match="payment.key_passphrase_file"):
        build_terminal(config, till)
    till.db.close()


@pytest.mark.parametrize(("section", "key"), [
    ('kind = "ingenico"', "payment.kind"),
    ('kind = "adyen"\npoiid = "P1"\nkey_identifier = "k"\nkey_passphrase_file = "/x"',
     "payment.url"),
    ('kind = "adyen"\nurl = "http://10.0.0.5:8443/nexo"', "payment.url"),
    ('kind = "adyen"\nurl = "https://10.0.0.5:8443/nexo"\nkey_identifier = "k"\n'
     'key_passphrase_file = "/x"', "payment.poiid"),
    ('kind = "adyen-cloud"\npoiid = "P1"', "payment.api_key_file"),
    ("timeout_seconds = 2", "payment.timeout_seconds"),
])
def test_bad_payment_settings_name_their_key(section: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"[payment]\n{section}\n", "kassa.toml")
    assert caught.value.key == key


def test_kind_none_keeps_the_typed_pin_reference(tmp_path: Path) -> None:
    till = build_till(make_config(tmp_path))
    from firmware.sim import ensure_demo_data

    ensure_demo_data(till, products=10)
    assert build_terminal(till.config, till) is None and till.payments is None
    till.login("1111")
    till.add_plu("1")
    committed = till.pay_card(None, "778899")
    tender = committed.entry.body["data"]["tenders"][0]
    assert tender == {"kind": "card", "amount": tender["amount"], "given": 0, "change": 0,
                      "reference": "778899"}  # no card field: journaled exactly as before
    till.db.close()


def test_an_answer_for_another_category_is_refused() -> None:
    from drivers.payment.nexo import read_response

    with pytest.raises(MessageError, match="expected 'Payment'"):
        read_response({"SaleToPOIResponse": {"MessageHeader": {"MessageCategory": "Abort"}}},
                      "Payment")
    with pytest.raises(MessageError):
        read_response({"nothing": 1}, "Payment")


def test_the_cloud_endpoint_takes_the_api_key(tmp_path: Path) -> None:
    sim = SimTerminal(KEY, directory=tmp_path, api_key="test-api-key").start()
    url = sim.url.replace("/nexo", "/sync")
    try:
        cloud = AdyenTerminal(url, sim.poiid, "t1", api_key="test-api-key",
                              ca_file=str(sim.cert_file), timeout=5)
        outcome = cloud.pay(1250, "c1", "T-9")
        assert outcome["result"] == "approved" and outcome["amount"] == 1250
        assert cloud.status("c1")["result"] == "approved"
        wrong = AdyenTerminal(url, sim.poiid, "t1", api_key="other", ca_file=str(sim.cert_file),
                              timeout=5)
        with pytest.raises(OSError, match="HTTP 401"):
            wrong.pay(100, "c2", "T-10")
        assert len(sim.charges) == 1
    finally:
        sim.stop()
