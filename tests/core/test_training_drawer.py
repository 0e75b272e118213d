"""Training mode and the cash drawer: a trainee's cash sale, refund or no-sale leaves the real
drawer shut (no GPIO pulse, no ESC p kick to the printer) and says "opened (training)" to the
screen; `[drawer] open_in_training = true` opens it as in a real sale.

The drawers are the real drivers built by cli/wiring.py from the config: the GPIO drawer on
gpiozero's MockFactory (the relay pin's state history) and the printer-kick drawer on
python-escpos' Dummy printer, which also prints the receipts through the print queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from cli import wiring
from cli.assemble import build_till
from contract.config import ConfigError, parse_config
from firmware.kernel import Committed, DrawerOpening
from firmware.permissions import Action
from firmware.print_queue import PrintQueue
from firmware.sim import MANAGER_PIN, ensure_demo_data
from firmware.till import TillService
from tests.fixtures_till import make_config

KICK = b"\x1bp\x00\x32\x64"  # ESC p, pin 2, 100 ms on, 200 ms rest: [drawer] defaults
RELAY_PIN = 23


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    previous = Device.pin_factory
    Device.pin_factory = factory
    yield factory
    Device.pin_factory = previous
    factory.reset()


class Shop:
    """A till with real drivers from its config, and the events it emitted."""

    def __init__(self, tmp: Path, drawer_toml: str, printer_kind: str = "none") -> None:
        config = make_config(tmp, f'[printer]\nkind = "{printer_kind}"\n[drawer]\n{drawer_toml}')
        self.printer = wiring.build_printer(config)
        self.drawer = wiring.build_drawer(config, self.printer)
        self.queue = PrintQueue(self.printer) if self.printer else None
        self.till: TillService = build_till(config, drawer=self.drawer, print_queue=self.queue)
        ensure_demo_data(self.till, products=5)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.till.subscribe(lambda event, data: self.events.append((event, data)))
        self.till.login("1111")

    def training(self, on: bool) -> None:
        self.till.set_training(on, approval=self.till.approve(MANAGER_PIN, Action.TRAINING))

    def cash_sale(self) -> Committed:
        self.till.add_plu("1")
        return self.till.pay_cash(self.till.cash_due() + 500)

    def no_sale(self) -> Committed:
        return self.till.no_sale("change", approval=self.till.approve(MANAGER_PIN, Action.NO_SALE))

    def drawer_events(self) -> list[dict[str, Any]]:
        return [data for event, data in self.events if event == "drawer_opened"]

    def printed(self) -> bytes:
        """Every byte the Dummy printer got so far (receipts and kicks), then forgotten."""
        assert self.queue is not None and self.queue.wait_idle(10)
        out = self.printer.driver.dummy.output
        self.printer.driver.dummy.clear()
        return out

    def close(self) -> None:
        if self.queue is not None:
            self.queue.close()
        self.drawer.close()
        self.till.db.close()


@pytest.fixture
def shops(tmp_path: Path) -> Iterator[Any]:
    made: list[Shop] = []

    def make(drawer_toml: str, printer_kind: str = "none") -> Shop:
        directory = tmp_path / f"shop{len(made)}"
        directory.mkdir()
        shop = Shop(directory, drawer_toml, printer_kind)
        made.append(shop)
        return shop

    yield make
    for shop in made:
        shop.close()


def relay_changes(pins: MockFactory) -> list[bool]:
    states = [s.state for s in pins.pin(RELAY_PIN).states]
    pins.pin(RELAY_PIN).clear_states()
    return states[1:]  # the first is the state at clear_states()


def test_the_key_defaults_to_off_and_takes_only_true_or_false(tmp_path: Path) -> None:
    assert make_config(tmp_path).drawer.open_in_training is False
    on = parse_config("[drawer]\nopen_in_training = true\n", "kassa.toml")
    assert on.drawer.open_in_training is True
    with pytest.raises(ConfigError) as raised:
        parse_config('[drawer]\nopen_in_training = "yes"\n', "kassa.toml")
    assert raised.value.key == "drawer.open_in_training"
    assert "expected true or false" in raised.value.reason


def test_training_cash_sale_leaves_the_gpio_drawer_shut(shops, pins: MockFactory) -> None:
    shop = shops(f'kind = "gpio"\npin = {RELAY_PIN}\npulse_ms = 20\n')
    shop.training(True)
    relay_changes(pins)
    committed = shop.cash_sale()
    assert committed.entry.body["training"] is True
    assert relay_changes(pins) == []  # the relay never switched
    assert committed.drawer is DrawerOpening.TRAINING and committed.drawer_opened
    assert shop.drawer_events() == [{"opening": "training", "training": True}]
    no_sale = shop.no_sale()
    assert no_sale.drawer is DrawerOpening.TRAINING and relay_changes(pins) == []
    shop.training(False)
    real = shop.cash_sale()
    assert real.drawer is DrawerOpening.KICKED and relay_changes(pins) == [True, False]
    assert shop.drawer_events()[-1] == {"opening": "kicked", "training": False}


def test_training_cash_sale_sends_no_kick_to_the_printer(shops) -> None:
    shop = shops('kind = "printer"\n', printer_kind="dummy")
    shop.training(True)
    committed = shop.cash_sale()
    out = shop.printed()
    assert b"TRAINING - GEEN VERKOOP" in out  # the training receipt printed
    assert b"\x1bp" not in out and committed.drawer is DrawerOpening.TRAINING
    shop.no_sale()
    assert b"\x1bp" not in shop.printed()
    shop.training(False)
    assert shop.cash_sale().drawer is DrawerOpening.KICKED
    assert shop.printed().count(KICK) == 1


def test_card_sale_in_training_shows_no_drawer_either(shops, pins: MockFactory) -> None:
    shop = shops(f'kind = "gpio"\npin = {RELAY_PIN}\n')
    shop.training(True)
    relay_changes(pins)
    shop.till.add_plu("1")
    committed = shop.till.pay_card(None, "PIN-1")
    assert committed.drawer is DrawerOpening.NONE and not committed.drawer_opened
    assert shop.drawer_events() == [] and relay_changes(pins) == []


def test_open_in_training_kicks_both_drawers(shops, pins: MockFactory) -> None:
    gpio = shops(f'kind = "gpio"\npin = {RELAY_PIN}\npulse_ms = 20\nopen_in_training = true\n')
    gpio.training(True)
    relay_changes(pins)
    committed = gpio.cash_sale()
    assert committed.drawer is DrawerOpening.KICKED and relay_changes(pins) == [True, False]
    assert gpio.drawer_events() == [{"opening": "kicked", "training": True}]
    kick = shops('kind = "printer"\nopen_in_training = true\n', printer_kind="dummy")
    kick.training(True)
    assert kick.cash_sale().drawer is DrawerOpening.KICKED
    assert kick.printed().count(KICK) == 1
