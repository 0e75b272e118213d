"""Drawers on gpiozero's MockFactory (pin state histories), the printer kick and the simulator."""

from __future__ import annotations

import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.drawer.gpio import GpioDrawer
from drivers.drawer.printer_kick import PrinterKickDrawer, kick_command
from drivers.drawer.sensor import OPEN_TOO_LONG
from drivers.drawer.sim import SimDrawer
from drivers.errors import DeviceError
from drivers.printer.factory import open_printer


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()


class States:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self._cond = threading.Condition()

    def __call__(self, state: str, detail: str) -> None:
        with self._cond:
            self.seen.append((state, detail))
            self._cond.notify_all()

    def wait_for(self, state: str, detail_prefix: str = "", timeout: float = 3) -> None:
        def seen() -> bool:
            return any(s == state and d.startswith(detail_prefix) for s, d in self.seen)
        with self._cond:
            assert self._cond.wait_for(seen, timeout), self.seen


def test_pulse_active_high_drives_the_pin_for_pulse_ms(factory):
    drawer = GpioDrawer(17, pulse_ms=100, pin_factory=factory)
    relay = factory.pin(17)
    relay.clear_states()
    drawer.open()
    relay.assert_states_and_times([(0.0, False), (0.0, True), (0.1, False)])
    assert [s.state for s in relay.states] == [False, True, False]
    assert drawer.state == "unknown"
    drawer.close()


def test_pulse_active_low_idles_high_and_pulls_low(factory):
    drawer = GpioDrawer(27, active_high=False, pulse_ms=50, pin_factory=factory)
    relay = factory.pin(27)
    assert relay.state is True  # idle: relay off
    relay.clear_states()
    drawer.open()
    relay.assert_states_and_times([(0.0, True), (0.0, False), (0.05, True)])
    drawer.close()


def test_back_to_back_opens_rest_one_pulse_between(factory):
    drawer = GpioDrawer(17, pulse_ms=40, pin_factory=factory)
    relay = factory.pin(17)
    relay.clear_states()
    drawer.open()
    drawer.open()
    relay.assert_states_and_times([(0.0, False), (0.0, True), (0.04, False), (0.04, True),
                                   (0.04, False)])
    drawer.close()


@pytest.mark.parametrize("pulse", [0, 5, 501, 2000])
def test_pulse_outside_bounds_is_refused(factory, pulse):
    with pytest.raises(DeviceError, match="outside 10..500"):
        GpioDrawer(17, pulse_ms=pulse, pin_factory=factory)


def test_pin_already_in_use_is_a_clear_error_not_a_crash(factory):
    first = GpioDrawer(17, pin_factory=factory)
    with pytest.raises(DeviceError, match="GPIO17 \\(drawer relay\\) is already in use"):
        GpioDrawer(17, pin_factory=factory)
    with pytest.raises(DeviceError, match="GPIO17 \\(drawer sensor\\) is already in use"):
        GpioDrawer(22, sensor_pin=17, pin_factory=factory)
    # the failed drawer released its relay pin again
    GpioDrawer(22, pin_factory=factory).close()
    first.close()


def test_sensor_debounced_state_and_polarity(factory):
    states = States()
    drawer = GpioDrawer(17, sensor_pin=18, sensor_open_when_high=True, debounce_ms=30,
                        on_state=states, pin_factory=factory)
    sensor = factory.pin(18)
    assert drawer.state == "open"  # pull-up: a floating (open) switch reads high
    sensor.drive_low()
    states.wait_for("closed")
    assert drawer.state == "closed"
    states.seen.clear()
    for _ in range(5):  # contact bounce while the drawer springs open
        sensor.drive_high()
        sensor.drive_low()
    sensor.drive_high()
    states.wait_for("open")
    time.sleep(0.1)
    assert states.seen == [("open", "")]
    drawer.close()


def test_sensor_open_when_low(factory):
    states = States()
    drawer = GpioDrawer(17, sensor_pin=18, sensor_open_when_high=False, debounce_ms=10,
                        on_state=states, pin_factory=factory)
    assert drawer.state == "closed"
    factory.pin(18).drive_low()
    states.wait_for("open")
    drawer.close()


def test_bounce_shorter_than_debounce_changes_nothing(factory):
    states = States()
    drawer = GpioDrawer(17, sensor_pin=18, debounce_ms=50, on_state=states, pin_factory=factory)
    sensor = factory.pin(18)
    sensor.drive_low()
    states.wait_for("closed")
    states.seen.clear()
    sensor.drive_high()
    sensor.drive_low()  # a glitch
    time.sleep(0.15)
    assert states.seen == [] and drawer.state == "closed"
    drawer.close()


def test_drawer_left_open_raises_the_alert_once(factory):
    states = States()
    drawer = GpioDrawer(17, sensor_pin=18, debounce_ms=10, open_alert_seconds=0.2,
                        on_state=states, pin_factory=factory)
    sensor = factory.pin(18)
    sensor.drive_low()
    states.wait_for("closed")
    sensor.drive_high()
    states.wait_for("open")
    started = time.monotonic()
    states.wait_for(OPEN_TOO_LONG, "left open longer than 0.2 s")
    assert time.monotonic() - started >= 0.15
    assert drawer.state == OPEN_TOO_LONG  # until it is closed
    sensor.drive_low()
    sensor.drive_high()  # a bounce while still open is not a new opening
    time.sleep(0.3)
    assert sum(s == OPEN_TOO_LONG for s, _ in states.seen) == 1
    assert drawer.state == OPEN_TOO_LONG
    sensor.drive_low()
    states.wait_for("closed")
    drawer.close()


def test_kick_command_bytes():
    assert kick_command(2, 100) == b"\x1bp\x00\x32\x64"
    assert kick_command(5, 200) == b"\x1bp\x01\x64\xc8"
    with pytest.raises(DeviceError, match="not 2 or 5"):
        kick_command(3, 100)
    with pytest.raises(DeviceError, match="outside"):
        kick_command(2, 900)


def test_printer_kick_goes_through_the_printer(tmp_path):
    printer = open_printer("dummy", profile="TM-T88III")
    PrinterKickDrawer(printer, pin=5, pulse_ms=120).open()
    assert printer.dummy.output == b"\x1bp\x01\x3c\x78"
    sim = open_printer("sim", var_dir=tmp_path)
    sim.simulate("offline")
    with pytest.raises(DeviceError, match="could not kick the drawer"):
        PrinterKickDrawer(sim).open()


def test_sim_drawer_springs_open_and_alerts():
    states = States()
    drawer = SimDrawer(debounce_ms=10, open_alert_seconds=0.1, on_state=states)
    assert drawer.state == "closed"
    drawer.open()
    states.wait_for("open")
    states.wait_for(OPEN_TOO_LONG, "left open longer than")
    drawer.push_closed()
    states.wait_for("closed")
    assert len(drawer.pulses) == 1
    drawer.fail_with = "relay board unplugged"
    with pytest.raises(DeviceError, match="relay board"):
        drawer.open()
    drawer.close()
    assert SimDrawer(sensor=False).state == "unknown"
