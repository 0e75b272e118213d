"""A cash drawer on a GPIO relay/MOSFET (gpiozero), with an optional drawer-open switch.

On a Pi 4 and Pi 5 gpiozero picks the lgpio pin factory by itself; tests pass a MockFactory.
The pulse is given in full or not at all, and the relay is always switched off again, even
when the sleep is interrupted: a solenoid left energised burns out.
"""

from __future__ import annotations

import errno
import logging
import sys
import threading
import time
from typing import Any

from drivers.drawer.pulse import checked_pulse_ms
from drivers.drawer.sensor import SensedDrawer, SensorMonitor
from drivers.errors import (
    BackendMissing,
    DeviceError,
    DrawerFailed,
    PermissionDenied,
    PinFailed,
    PinUnavailable,
    SettingRejected,
    StateCallback,
    no_state,
)

log = logging.getLogger(__name__)

FIX_PERMISSION = ("add the till user to group 'gpio' (or 'kassa' with "
                  "provisioning/udev/99-kassa.rules installed)")


def fix_backend() -> str:
    """How to get lgpio where Kassa looks for it: its own venv (a system package such as
    python3-lgpio is not seen from a venv), with the Python that runs Kassa now."""
    return (f"install the lgpio wheel into Kassa's venv: {sys.executable} -m pip install lgpio "
            "(a system package is not seen from the venv)")


class GpioDrawer(SensedDrawer):
    """Satisfies firmware.ports.Drawer."""

    def __init__(self, pin: int, *, active_high: bool = True, pulse_ms: int = 100,
                 sensor_pin: int = -1, sensor_open_when_high: bool = True, debounce_ms: int = 20,
                 open_alert_seconds: float = 60, on_state: StateCallback = no_state,
                 pin_factory: Any = None) -> None:
        from gpiozero import DigitalInputDevice, DigitalOutputDevice

        self._pulse_s = checked_pulse_ms(pulse_ms) / 1000
        if sensor_pin == pin:
            raise SettingRejected("drawer.sensor_pin",
                                  f"drawer sensor pin GPIO{sensor_pin} is also the relay pin")
        self._lock = threading.Lock()
        self._last_pulse_end = 0.0
        self._closed = False
        self._relay = _claim(lambda: DigitalOutputDevice(
            pin, active_high=active_high, initial_value=False, pin_factory=pin_factory),
            pin, "drawer relay")
        self._sensor = None
        self._monitor: SensorMonitor | None = None
        if sensor_pin >= 0:
            try:
                self._sensor = _claim(lambda: DigitalInputDevice(
                    sensor_pin, pull_up=True, pin_factory=pin_factory), sensor_pin, "drawer sensor")
            except DeviceError:
                self._relay.close()
                raise
            sensor = self._sensor
            self._monitor = SensorMonitor(
                lambda: bool(sensor.pin.state) == sensor_open_when_high,
                debounce_s=debounce_ms / 1000, alert_s=open_alert_seconds, on_state=on_state)
            monitor = self._monitor
            sensor.when_activated = monitor.edge
            sensor.when_deactivated = monitor.edge
            monitor.start()

    def open(self) -> None:
        with self._lock:
            self._check_not_closed()
            rest = self._last_pulse_end + self._pulse_s - time.monotonic()
            if rest > 0:  # let the solenoid cool for at least one pulse length
                time.sleep(rest)
            try:
                self._relay.on()
                try:
                    time.sleep(self._pulse_s)
                finally:
                    self._relay.off()
            except DeviceError:
                raise
            except Exception as exc:
                raise DrawerFailed(f"could not pulse the drawer relay: {exc}") from exc
            finally:
                self._last_pulse_end = time.monotonic()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._monitor:
                self._monitor.stop()
            if self._sensor is not None:
                self._sensor.close()
            self._relay.close()


def _claim(make: Any, pin: int, role: str) -> Any:
    """The gpiozero device, or a typed DeviceError that says what to do about it.

    Sorted by exception type and errno only: gpiozero's own types, PermissionError, and the
    errno of an OSError (EBUSY, EACCES, EPERM). Anything else from the pin library (lgpio
    raises its own error with only a text) is a PinFailed carrying that text as its reason."""
    from gpiozero.exc import BadPinFactory, GPIOPinInUse, GPIOZeroError

    try:
        return make()
    except GPIOPinInUse as exc:
        raise PinUnavailable(pin, role, str(exc)) from None
    except BadPinFactory as exc:
        fix = fix_backend()
        raise BackendMissing("lgpio", fix, f"no GPIO library for the {role}: {exc}; {fix}") from None
    except PermissionError as exc:
        raise _denied(pin, role, exc) from None
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            raise PinUnavailable(pin, role, str(exc)) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise _denied(pin, role, exc) from None
        raise PinFailed(pin, role, str(exc)) from None
    except (GPIOZeroError, RuntimeError) as exc:
        raise PinFailed(pin, role, str(exc)) from None
    except Exception as exc:  # the pin library's own error type (lgpio.error): only a text
        raise PinFailed(pin, role, str(exc) or type(exc).__name__) from None


def _denied(pin: int, role: str, exc: BaseException) -> PermissionDenied:
    return PermissionDenied(f"GPIO{pin}", FIX_PERMISSION,
                            f"no permission for GPIO{pin} ({role}): {exc}; {FIX_PERMISSION}")
