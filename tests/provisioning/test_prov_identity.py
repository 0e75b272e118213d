"""Enrollment writes each store's legal identity into the bundle, checked before anything is
enrolled; a bundle without one keeps the demo shop, which a real till refuses to print."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from provkit import COMPANY, enroll, init_fleet, run_cli, stores_file

from contract.config import demo_identity_keys, parse_config


def _identity(bundle: Path) -> tuple[str, str, str, str]:
    t = parse_config((bundle / "kassa.toml").read_text(), "bundle").terminal
    return t.shop_name, t.address, t.vat_number, t.kvk_number


def _nothing_enrolled(fleet: Path) -> None:
    assert not any((fleet / "bundles").iterdir())
    assert json.loads((fleet / "fleet.json").read_text())["terminals"] == []


def test_stores_file_identity_goes_into_the_bundle(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    stores = stores_file(tmp_path / "stores.toml", "utrecht", "zwolle")
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                             "--store", "zwolle", "--terminal", "zwl-1", "--no-register",
                             "--stores", str(stores))
    assert code == 0, err
    bundle = fleet / "bundles" / "zwl-1"
    assert _identity(bundle) == (COMPANY["name"], "Oudegracht 2, 3511 AB Utrecht",
                                 "NL812345678B01", "12345678")
    config = parse_config((bundle / "kassa.toml").read_text(), "bundle")
    assert demo_identity_keys(config.terminal) == ()
    assert f"{COMPANY['name']}, BTW-nr NL812345678B01, KvK 12345678" in out
    manifest = json.loads((bundle / "bundle.json").read_text())
    assert set(manifest["files"]) >= {"kassa.toml"}


def test_csv_columns_give_each_store_its_identity(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    sheet = tmp_path / "shops.csv"
    sheet.write_text(
        "store,terminal,name,address,vat_number,kvk_number\n"
        'utrecht,utr-1,Bakkerij De Korenaar B.V.,"Oudegracht 12, 3511 AB Utrecht",'
        "NL 8123.45.678.B01,12345678\n"
        'utrecht,utr-2,Bakkerij De Korenaar B.V.,"Oudegracht 12, 3511 AB Utrecht",'
        "NL812345678B01,12345678\n"
        'zwolle,zwl-1,Slijterij Diezerpoort B.V.,"Diezerstraat 5, 8011 RD Zwolle",'
        "NL004495445B01,87654321\n")
    code, out, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                             "--csv", str(sheet), "--no-register")
    assert code == 0, err
    bundles = fleet / "bundles"
    assert _identity(bundles / "utr-1") == _identity(bundles / "utr-2") == (
        "Bakkerij De Korenaar B.V.", "Oudegracht 12, 3511 AB Utrecht", "NL812345678B01",
        "12345678")
    assert _identity(bundles / "zwl-1") == (
        "Slijterij Diezerpoort B.V.", "Diezerstraat 5, 8011 RD Zwolle", "NL004495445B01",
        "87654321")


def test_csv_identity_must_agree_with_the_stores_file(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    sheet = tmp_path / "shops.csv"
    sheet.write_text('s1,t1,Bakkerij De Korenaar B.V.,"Oudegracht 1, 3511 AB Utrecht",'
                     "NL812345678B01,12345679\n")
    stores = stores_file(tmp_path / "stores.toml", "s1")
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--csv", str(sheet), "--stores", str(stores), "--no-register")
    assert code == 1 and "store 's1': kvk_number: given twice" in err
    _nothing_enrolled(fleet)


def test_enrollment_without_an_identity_is_refused(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    sheet = tmp_path / "shops.csv"
    sheet.write_text("s1,t1\ns2,t2\n")
    stores = stores_file(tmp_path / "stores.toml", "s1")  # nothing for s2
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--csv", str(sheet), "--stores", str(stores), "--no-register")
    assert code == 1 and "store 's2'" in err and "no legal identity" in err
    assert "--demo-identity" in err
    _nothing_enrolled(fleet)


BASE = {"name": '"Bakkerij De Korenaar B.V."', "address": '"Oudegracht 1, 3511 AB Utrecht"',
        "vat_number": '"NL812345678B01"', "kvk_number": '"12345678"'}


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("vat_number", '"NL123456789B01"', "vat_number: 'NL123456789B01' is not a valid Dutch VAT"),
    ("vat_number", '"NL12345678B01"', "is not a valid Dutch VAT number"),
    ("vat_number", '"BE0123456789"', "is not a valid Dutch VAT number"),
    ("vat_number", '"NL000099998B57"', "vat_number: NL000099998B57 is the demo shop's number"),
    ("kvk_number", '"1234567"', "kvk_number: '1234567' is not a KvK number (8 digits)"),
    ("kvk_number", '"1234567X"', "is not a KvK number"),
    ("name", '"  "', "name: missing or empty"),
    ("address", None, "address: missing or empty"),
    ("btw", '"x"', "btw: unknown key"),
])
def test_bad_identity_in_the_stores_file_enrolls_nothing(capsys, tmp_path, key, value,
                                                         reason) -> None:
    fleet = init_fleet(capsys, tmp_path)
    table = dict(BASE)
    if value is None:
        del table[key]
    else:
        table[key] = value
    stores = tmp_path / "stores.toml"
    stores.write_text("[s1]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()))
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--store", "s1", "--terminal", "t1", "--stores", str(stores),
                           "--no-register")
    assert code == 1 and f"{stores}: store 's1': " in err and reason in err, err
    _nothing_enrolled(fleet)


def test_bad_identity_in_a_csv_row_names_the_line(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    sheet = tmp_path / "shops.csv"
    sheet.write_text('s1,t1,Korenaar,"Oudegracht 1, Utrecht",NL812345678B01,12345678\n'
                     's2,t2,Korenaar,"Oudegracht 2, Utrecht",NL812345679B01,12345678\n')
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--csv", str(sheet), "--no-register")
    assert code == 1 and f"{sheet}:2: store 's2': vat_number:" in err
    _nothing_enrolled(fleet)


def _till_exit(monkeypatch: pytest.MonkeyPatch, config: Path, *flags: str) -> int | str:
    """`kassa till` on a bundle's config, stopped where it would open the window."""
    import ui.kivy_setup
    from cli import main

    def stop(*_args: object) -> None:
        raise SystemExit("window")

    monkeypatch.setattr(ui.kivy_setup, "configure_kivy", stop)
    try:
        return main(["--config", str(config), "till", *flags])
    except SystemExit as exc:
        return str(exc.code)


def test_demo_identity_bundle_runs_only_as_demo(capsys, tmp_path, monkeypatch) -> None:
    fleet = init_fleet(capsys, tmp_path)
    demo = enroll(capsys, fleet, "lab", "lab-1", "--no-register", "--demo-identity")
    real = enroll(capsys, fleet, "s1", "t1", "--no-register")
    assert "# no legal identity given" in (demo / "kassa.toml").read_text()
    assert _identity(demo)[2] == "NL000099998B57"
    capsys.readouterr()
    assert _till_exit(monkeypatch, demo / "kassa.toml") == 2
    err = capsys.readouterr().err
    assert "terminal.shop_name" in err and "demo shop identity" in err
    assert _till_exit(monkeypatch, demo / "kassa.toml", "--demo") == "window"
    assert _till_exit(monkeypatch, real / "kassa.toml") == "window"


def test_stores_and_demo_identity_exclude_each_other(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    stores = stores_file(tmp_path / "stores.toml", "s1")
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--store", "s1", "--terminal", "t1", "--stores", str(stores),
                           "--demo-identity", "--no-register")
    assert code == 1 and "not both" in err
    _nothing_enrolled(fleet)


def test_a_stores_identity_on_one_csv_row_serves_its_other_rows(capsys, tmp_path) -> None:
    fleet = init_fleet(capsys, tmp_path)
    sheet = tmp_path / "shops.csv"
    sheet.write_text('s1,t1\ns1,t2,Korenaar B.V.,"Oudegracht 1, Utrecht",NL812345678B01,'
                     '12345678\n')
    code, _, err = run_cli(capsys, "provision", "--fleet-dir", str(fleet), "enroll",
                           "--csv", str(sheet), "--no-register")
    assert code == 0, err
    assert _identity(fleet / "bundles" / "t1") == _identity(fleet / "bundles" / "t2") == (
        "Korenaar B.V.", "Oudegracht 1, Utrecht", "NL812345678B01", "12345678")
