"""Config: the example file is valid; anything wrong stops start-up with file, key, reason."""

import datetime as dt
from pathlib import Path

import pytest

from contract.config import Config, ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "kassa.example.toml"


def test_example_config_parses_and_matches_defaults() -> None:
    config = load_config(EXAMPLE)
    assert config.terminal.store == "utrecht-01"
    assert config.drawer.pulse_ms == 100
    assert config.tax.rate_bp("high", dt.date(2026, 1, 1)) == 2100
    assert config.tax.rate_bp("low", dt.date(2026, 1, 1)) == 900
    defaults = Config()
    assert config.printer == defaults.printer
    assert config.scanner.variable_measure == defaults.scanner.variable_measure


def test_rates_follow_their_valid_from_date() -> None:
    config = parse_config("""
[[tax.rates]]
code = "low"
percent = "6"
valid_from = 2001-01-01
[[tax.rates]]
code = "low"
percent = "9"
valid_from = 2019-01-01
[[tax.rates]]
code = "high"
percent = "21"
[[tax.rates]]
code = "zero"
percent = "0"
[[tax.rates]]
code = "exempt"
percent = "0"
""")
    assert config.tax.rate_bp("low", dt.date(2018, 12, 31)) == 600
    assert config.tax.rate_bp("low", dt.date(2019, 1, 1)) == 900


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("[drawer]\npulse_ms = -5", "drawer.pulse_ms", "outside 10..500"),
        ("[drawer]\npulse_ms = 2000", "drawer.pulse_ms", "outside 10..500"),
        ('[[tax.rates]]\ncode = "high"\npercent = "150"', "tax.rates[0].percent", "not a VAT rate"),
        ('[[tax.rates]]\ncode = "super"\npercent = "5"', "tax.rates[0].code", "is not one of"),
        ("[drawer]\nbogus = 1", "drawer.bogus", "unknown key"),
        ("[webshop]\nurl = 'x'", "webshop", "unknown section"),
        ('[drawer]\npulse_ms = "100"', "drawer.pulse_ms", "expected an integer"),
        ("[drawer]\nactive_high = 1", "drawer.active_high", "expected true or false"),
        ("[printer]\ncolumns = 40", "printer.columns", "not 32, 42 or 48"),
        ('[printer]\nkind = "network"', "printer.host", "required for a network printer"),
        ('[terminal]\nstore = "a/b"', "terminal.store", "MQTT topic level"),
        ('[ui]\nlanguage = "fr"', "ui.language", "not nl or en"),
        ("[tax]\nrates = []", "tax.rates", "no rate for code"),
        ("[cash]\nquick_amounts_cents = [500, -1]", "cash.quick_amounts_cents", "positive"),
        ("[tax]\nrates = [{code = 'high', percent = 21.5}]", "tax.rates[0].percent", "as a string"),
        ("[scanner]\nvariable_measure = [{prefix = '31'}]", "scanner.variable_measure[0].prefix",
         "not a GS1 in-store prefix"),
    ],
)
def test_bad_values_name_file_key_and_reason(tmp_path: Path, text: str, key: str, reason: str) -> None:
    path = tmp_path / "kassa.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.file == str(path)
    assert info.value.key == key
    assert reason in info.value.reason
    assert str(path) in str(info.value) and key in str(info.value)


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "kassa.toml"
    path.write_text("[drawer\npulse_ms = 100")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")
    path.write_bytes(b"\xff\xfe[drawer]")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(path)


def test_kassa_config_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k.toml"
    path.write_text('[terminal]\nterminal = "till-9"\n')
    monkeypatch.setenv("KASSA_CONFIG", str(path))
    assert load_config().terminal.terminal == "till-9"


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(AttributeError):
        config.drawer.pulse_ms = 5  # type: ignore[misc]


def test_cli_reports_config_errors(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "kassa.toml"
    path.write_text("[drawer]\npulse_ms = -1\n")
    result = subprocess.run([sys.executable, "-m", "cli", "--config", str(path), "journal",
                             "verify"], capture_output=True, text=True, cwd=EXAMPLE.parent)
    assert result.returncode == 2
    assert f"{path}: drawer.pulse_ms:" in result.stderr


OWN_IDENTITY = """
[terminal]
shop_name = "Bakkerij De Korenaar B.V."
address = "Oudegracht 12, 3511 AB Utrecht"
vat_number = "NL812345678B01"
kvk_number = "12345678"
"""


def test_kvk_number_is_a_config_key_of_eight_digits() -> None:
    assert parse_config(OWN_IDENTITY).terminal.kvk_number == "12345678"
    assert Config().terminal.kvk_number == ""
    for bad in ("1234567", "123456789", "1234567a"):
        with pytest.raises(ConfigError) as err:
            parse_config(f'[terminal]\nkvk_number = "{bad}"\n', "k.toml")
        assert err.value.key == "terminal.kvk_number"


@pytest.mark.parametrize("bad", ["NL12345678B01", "NL123456789X01", "123456789B01",
                                 "NL123456789B1"])
def test_dutch_vat_number_must_have_its_format(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(f'[terminal]\nvat_number = "{bad}"\n', "v.toml")
    assert err.value.key == "terminal.vat_number"
    assert parse_config(f'[terminal]\ncountry = "BE"\nvat_number = "{bad}"\n').terminal


def test_demo_identity_is_named_key_by_key() -> None:
    from contract.config import DemoIdentityError, demo_identity_keys, require_own_identity

    assert demo_identity_keys(Config().terminal) == (
        "terminal.shop_name", "terminal.address", "terminal.vat_number", "terminal.kvk_number")
    own = parse_config(OWN_IDENTITY, "own.toml")
    assert demo_identity_keys(own.terminal) == ()
    require_own_identity(own)
    half = parse_config(OWN_IDENTITY.replace('"NL812345678B01"', '"NL000099998B57"'), "h.toml")
    with pytest.raises(DemoIdentityError) as err:
        require_own_identity(half)
    assert isinstance(err.value, ConfigError)
    assert (err.value.file, err.value.key, err.value.keys) == (
        "h.toml", "terminal.vat_number", ("terminal.vat_number",))


def _till_reached_kivy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Stops `kassa till` where it would open the window: past the identity check."""
    import ui.kivy_setup

    reached: list[bool] = []

    def stop(*_args: object) -> None:
        reached.append(True)
        raise SystemExit(0)

    monkeypatch.setattr(ui.kivy_setup, "configure_kivy", stop)
    return reached


def test_till_with_the_demo_identity_refuses_to_start(tmp_path: Path, capsys,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from cli import main

    reached = _till_reached_kivy(monkeypatch)
    path = tmp_path / "kassa.toml"
    path.write_text('[terminal]\nstore = "s1"\nterminal = "t1"\n')
    assert main(["--config", str(path), "till"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: terminal.shop_name:" in err and "demo shop identity" in err
    assert "terminal.kvk_number" in err and "--demo" in err
    assert not reached
    for flag in ("--demo", "--sim"):
        with pytest.raises(SystemExit):
            main(["--config", str(path), "till", flag])
    assert reached == [True, True]
    path.write_text(OWN_IDENTITY)
    with pytest.raises(SystemExit):
        main(["--config", str(path), "till"])
    assert len(reached) == 3


def test_simulator_keeps_the_demo_identity(tmp_path: Path, capsys) -> None:
    from cli import main

    path = tmp_path / "kassa.toml"
    path.write_text('[terminal]\nstore = "s1"\nterminal = "t1"\n')
    assert main(["--config", str(path), "sim", "--sales", "3", "--products", "20"]) == 0
    assert "configuration error" not in capsys.readouterr().err
