"""The Kivy kiosk app: status bar, screens and override dialogs.

The app talks only to the till's runtime and service (firmware/runtime.py): the runtime owns
the scanner and hands each code to the till service on Kivy's thread (the app gives it
Clock.schedule_once to do that), and the status bar shows the runtime's status snapshot.
Print-job updates and till events from other threads are handed to Kivy's main thread with
Clock.schedule_once before anything touches a widget.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from firmware import sdnotify
from firmware.errors import InvalidCode, TillError, UnknownProduct
from firmware.permissions import Action, Approval, ApprovalRequired, authorising_manager
from firmware.ports import DeviceError
from firmware.runtime import TillRuntime
from firmware.status import DeviceStatus, TillStatus
from firmware.till import TillService
from ui import age_dialog, heap, i18n
from ui.dialogs import MessageDialog, OverrideDialog
from ui.errors import error_text
from ui.i18n import N_, _
from ui.metrics import set_scale
from ui.sound import Beeper

log = logging.getLogger(__name__)
UI_DIR = Path(__file__).resolve().parent
SCREENS = ("login", "sale", "payment", "done", "manager")
DROP_WHEN_LEFT = ("login", "manager")
DEVICE_TEXT = {"printer": N_("Printer"), "drawer": N_("Drawer"), "scanner": N_("Scanner")}
POPUP_STATES = {("drawer", "open_too_long")}
"""Device states said in a popup the cashier must acknowledge (the rest in the message line)."""
ALERT_STATES = {"printer": ("paper_out", "cover_open", "offline", "error"),
                "drawer": ("open_too_long", "error"), "scanner": ("disconnected", "error")}
"""Device states that interrupt the cashier with a message (the status bar shows all)."""
STATE_SENTENCES = {("drawer", "open_too_long"): N_("the drawer was left open longer than {seconds} s")}


def state_text(device: str, status: DeviceStatus) -> str:
    """A device's state in the cashier's language, with its data (the drawer's seconds)."""
    sentence = STATE_SENTENCES.get((device, status.state))
    if sentence is not None:
        try:
            return _(sentence).format(**status.params)
        except (KeyError, IndexError):
            pass
    return _(status.state)


def load_kv() -> None:
    """The shared rules; each screen's own rules are loaded when it is first shown, the
    dialogs' when the first is built (ui/dialogs.py load_rules)."""
    for name in ("widgets.kv", "app.kv"):
        Builder.load_file(str(UI_DIR / name))


LINK_TEXT = {"online": N_("Online"), "offline": N_("Offline"), "local": N_("No uplink")}
QUIET_STATES = {"printer": "ready", "drawer": "closed", "scanner": "connected"}
"""A device in this state shows only its name (in green or grey): the bar has room for the
states that need the cashier, spelled out, on one line at 800x480."""


class StatusBar(BoxLayout):
    """Cashier, head-office link and backlog, printer, drawer, scanner, clock; one line."""

    cashier = StringProperty("")
    link = StringProperty("")
    backlog = NumericProperty(0)
    printer = StringProperty("")
    drawer = StringProperty("")
    scanner = StringProperty("")
    clock = StringProperty("")
    restart = BooleanProperty(False)  # head office's config waits for a restart of the till

    def update(self, status: dict[str, Any]) -> None:
        for key in ("cashier", "link", "backlog", "printer", "drawer", "scanner", "clock"):
            setattr(self, key, status[key])
        self.restart = bool(status.get("restart"))

    @staticmethod
    def device_text(device: str, state: str) -> str:
        name = _(DEVICE_TEXT[device])
        return name if state == QUIET_STATES[device] or not state else f"{name}: {_(state)}"

    @staticmethod
    def link_text(link: str, backlog: int, restart: bool = False) -> str:
        """The link, and the journal entries waiting for head office after an up arrow; a
        config from head office that waits for a restart of the till adds ↻ (a word would
        not fit the 800 px bar in its worst state; the manager reads it in the status and
        on head office's terminals page)."""
        text = _(LINK_TEXT[link]) if link in LINK_TEXT else ""
        text = f"{text} ↑{backlog}" if backlog else text
        return f"{text} ↻" if restart else text


class KassaApp(App):
    status = DictProperty({})
    print_state = StringProperty("")
    training = BooleanProperty(False)
    use_kivy_settings = False

    def __init__(self, runtime: TillRuntime, *, language: str | None = None, kiosk: bool = True,
                 on_exit: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime
        self.till: TillService = runtime.till
        self.kiosk = kiosk
        self.on_exit = on_exit
        self.title = "Kassa"
        self.allow_exit = False
        self.last_sale: dict[str, Any] = {}
        self.print_jobs: dict[int, str] = {}
        i18n.set_language(language or self.till.config.ui.language)
        self.till.language = i18n.language()
        self.beeper: Beeper | None = None
        self.sm: ScreenManager | None = None
        self.last_status: TillStatus | None = None
        self.notified: list[str] = []  # what was said to systemd (READY=1, watchdog pings)
        self.drawer_dialog: MessageDialog | None = None
        self.age_dialog: age_dialog.AgeCheckDialog | None = None  # open while the cashier decides

    # --- building ------------------------------------------------------------------------
    def build(self):  # noqa: ANN201 - Kivy's signature
        set_scale(Window.height)
        if self.kiosk:
            Window.show_cursor = self.till.config.ui.show_cursor
        Window.bind(on_request_close=self._on_request_close)
        load_kv()
        self.beeper = Beeper(Path(self.till.config.var_dir) / "ui")
        self.till.subscribe(self._till_event)
        Clock.schedule_interval(lambda _dt: self.refresh_status(), 1.0)
        root = self._make_root()
        Clock.schedule_once(lambda _dt: self.refresh_status())
        return root

    def _make_root(self, current: str | None = None):  # noqa: ANN202
        root = Builder.load_string("RootLayout:\n")
        self.sm = root.ids.sm
        self.sm.transition = NoTransition()
        self.sm.bind(current=self._drop_left_screens)
        self.sm.bind(current=self._route_scans)
        self.root = root
        self.show_screen(current or ("sale" if self.till.cashier else "login"))
        return root

    def screen(self, name: str) -> Any:
        """The screen `name`, built (rules and widgets) the first time it is needed."""
        if not self.sm.has_screen(name):
            from ui.screens import build_screen

            self.sm.add_widget(build_screen(name))
        return self.sm.get_screen(name)

    def show_screen(self, name: str) -> None:
        self.screen(name)
        self.sm.current = name

    def _drop_left_screens(self, sm: ScreenManager, current: str) -> None:
        """Rarely used screens (login, manager) are let go once left: their widget trees and
        report textures do not stay in memory for the rest of the day (after the switch)."""
        def drop(_dt: float) -> None:
            for name in DROP_WHEN_LEFT:
                if name != sm.current and sm.has_screen(name):
                    sm.remove_widget(sm.get_screen(name))

        Clock.schedule_once(drop, 0.5)

    def _route_scans(self, sm: ScreenManager, current: str) -> None:
        """A screen with its own use for codes (a voucher code, a receipt to refund) gets
        them while it is shown; on the others a scan goes to the till service."""
        self.runtime.claim_scans(getattr(sm.get_screen(current), "on_scan", None))

    def on_start(self) -> None:
        Window.bind(on_flip=self._first_frame)
        try:
            self.runtime.start(Clock)
        except Exception as exc:  # a missing scanner must not stop the till: show it
            log.exception("the scanner did not start")
            reason = ": " + error_text(exc) if isinstance(exc, DeviceError) else ""
            self.show_error(_("The scanner is not working") + reason)

    def _first_frame(self, *_args: Any) -> None:
        """The first frame is on screen and takes touches: tell systemd, start the watchdog
        from Kivy's clock (a hung UI stops feeding it and systemd restarts the till)."""
        Window.unbind(on_flip=self._first_frame)
        if sdnotify.ready(status="till ready"):
            self.notified.append("READY=1")
        period = sdnotify.watchdog_period()
        if period:
            Clock.schedule_interval(self._feed_watchdog, period)

    def _feed_watchdog(self, _dt: float) -> None:
        if sdnotify.watchdog():
            self.notified.append("WATCHDOG=1")
            del self.notified[1:-50]  # bounded: READY=1 and the last pings

    def on_stop(self) -> None:
        sdnotify.stopping()
        self.runtime.stop()

    def open_settings(self, *args: Any) -> bool:  # the kiosk has no Kivy settings panel
        return False

    def switch_language(self, language: str) -> None:
        """Reloads every screen in the other language (texts are resolved when built)."""
        i18n.set_language(language)
        self.till.language = language
        current = self.sm.current if self.sm else "login"
        Window.remove_widget(self.root)
        Window.add_widget(self._make_root(current))
        self.refresh_status()

    # --- thread hand-over ----------------------------------------------------------------
    def print_job_update(self, job: Any) -> None:
        """Called on the print queue's thread."""
        seq, state, error = job.seq, job.state, job.error
        Clock.schedule_once(lambda _dt: self._print_job(seq, state, error))

    def _device_alert(self, device: str, state: str) -> None:
        """A device state that needs the cashier (paper out, drawer left open...), said in
        the cashier's language from the state and the status snapshot's data."""
        if state not in ALERT_STATES.get(device, ()):
            return
        status = getattr(self.last_status, device, None) if self.last_status else None
        if not isinstance(status, DeviceStatus) or status.state != state:
            status = DeviceStatus(state)
        text = _(DEVICE_TEXT.get(device, device)) + ": " + state_text(device, status)
        if (device, state) in POPUP_STATES:
            self.drawer_popup(text)
            return
        self.show_error(text)

    def drawer_popup(self, text: str) -> None:
        """The drawer left open: a message the cashier must acknowledge, not only the status
        bar; it goes by itself once the drawer is shut."""
        if self.drawer_dialog is not None:
            return
        dialog = MessageDialog(text + "\n" + _("Close the cash drawer."))
        self.drawer_dialog = dialog

        def closed(*_args: Any) -> None:
            self.drawer_dialog = None

        dialog.bind(on_dismiss=closed)
        dialog.open()

    def _print_job(self, seq: int, state: str, error: str) -> None:
        self.print_jobs[seq] = state
        self.refresh_status()
        if self.last_sale.get("seq") == seq:
            self.print_state = state
            printer = self.last_status.printer.state if self.last_status else ""
            if state == "failed" and printer in ALERT_STATES["printer"]:
                self.print_state = f"{state}: {printer}"  # why, as the printer's state word

    def _till_event(self, event: str, data: dict[str, Any]) -> None:
        # Till events come from whichever thread called the service; widgets change on Kivy's.
        if threading.current_thread() is threading.main_thread():
            self._on_till_event(event, data)  # same frame: a scan is drawn at the next flip
        else:
            Clock.schedule_once(lambda _dt: self._on_till_event(event, data))

    def _on_till_event(self, event: str, data: dict[str, Any]) -> None:
        if event in ("session", "training", "device", "committed", "config_changed"):
            self.refresh_status()
        if event == "config_changed" and "ui.language" in data.get("keys", ()):
            self.switch_language(self.till.config.ui.language)  # head office's new default
        if event == "device":
            self._device_alert(str(data.get("device", "")), str(data.get("state", "")))
        if event == "scan_rejected" and isinstance(data.get("error"), TillError):
            self.scan_rejected(str(data.get("code", "")), data["error"])
        if event in ("ticket", "customer") and self.sm is not None and self.sm.has_screen("sale"):
            sale = self.sm.get_screen("sale")
            if event == "customer":
                sale.show_customer(data)
            else:
                sale.refresh_ticket(scroll=data.get("action") == "add")
        if event == "age_check":
            age_dialog.ask(self, int(data["age"]), list(data.get("names", ())))
        scanned = event == "customer" or (event == "ticket" and data.get("action") == "add")
        if scanned and self.sm is not None and self.sm.current == "done":
            self.go("sale")  # a scan after a sale starts the next customer's ticket

    # --- scanning ------------------------------------------------------------------------
    def scan_rejected(self, code: str, error: TillError) -> None:
        """The till refused a scanned code (its scan_rejected event, on Kivy's thread)."""
        if self.sm is not None and self.sm.current == "done":
            self.go("sale")
        screen = self.sm.current_screen if self.sm else None
        if screen is not None and hasattr(screen, "scan_refused"):
            screen.scan_refused(code, error)
        else:
            self.scan_error(code, error)

    def scan_error(self, code: str, error: TillError) -> None:
        """A refused scan, in the cashier's language, by the error's type."""
        if isinstance(error, UnknownProduct):
            self.reject(_("Unknown code") + f": {code}")
        elif isinstance(error, InvalidCode):
            self.reject(_("Invalid code") + f": {code} ({error_text(error)})")
        else:
            self.reject(error_text(error))

    def reject(self, message: str) -> None:
        """Unknown or invalid code: red flash, beep and the reason on screen."""
        self.root.ids.flash.fire()
        if self.beeper is not None:
            self.beeper.play()
        self.show_error(message)

    # --- calling the till ----------------------------------------------------------------
    def attempt(self, call: Callable[..., Any], *, on_done: Callable[[Any], None] | None = None,
                detail: str = "", **kwargs: Any) -> None:
        """Runs a till operation; a manager-only one opens the override dialog (showing
        `detail`, e.g. the amount to refund) and retries."""
        try:
            result = call(**kwargs)
        except ApprovalRequired as exc:
            self.ask_manager(exc.action, lambda approval: self.attempt(
                call, on_done=on_done, **{**kwargs, "approval": approval}), detail)
            return
        except TillError as exc:
            self.show_error(error_text(exc))
            return
        self.show_error("")
        if on_done is not None:
            on_done(result)

    def ask_manager(self, action: Action, then: Callable[[Approval], None],
                    detail: str = "") -> OverrideDialog:
        dialog = OverrideDialog(self.till.approve, action, then, detail=detail)
        dialog.open()
        return dialog

    def show_error(self, message: str) -> None:
        screen = self.sm.current_screen if self.sm else None
        if screen is not None and hasattr(screen, "message"):
            screen.message = message
            if hasattr(screen, "message_kind"):
                screen.message_kind = "error"  # a refusal: red, whatever the screen's default

    def alert(self, message: str) -> None:
        MessageDialog(message).open()

    def finish_sale(self, committed: Any) -> None:
        """The sale is committed: show the change and follow the receipt."""
        seq = committed.entry.seq
        self.last_sale = {"seq": seq, "change": committed.change,
                          "total": committed.entry.body["data"]["total_paid"],
                          "tenders": committed.entry.body["data"]["tenders"],
                          "drawer": str(committed.drawer)}  # "kicked", "training" or ""
        self.print_state = self.print_jobs.get(seq, "queued" if self.till.print_queue else "failed")
        self.go("done")
        Clock.schedule_once(lambda _dt: heap.trim(), 0.2)  # after the done screen is drawn

    def go(self, name: str) -> None:
        self.show_error("")
        self.show_screen(name)

    # --- status and session --------------------------------------------------------------
    def refresh_status(self) -> None:
        try:
            status = self.runtime.status()
        except Exception as exc:  # the status bar must never take the till down
            log.warning("status failed: %s", exc)
            return
        self.last_status = status
        self.training = status.training
        self.status = {"cashier": status.cashier, "link": status.link, "backlog": status.backlog,
                       "printer": status.printer.state, "drawer": status.drawer.state,
                       "scanner": status.scanner.state, "clock": status.at.strftime("%H:%M"),
                       "restart": bool(status.restart)}
        if self.root is not None:
            self.root.ids.status_bar.update(self.status)
        if self.drawer_dialog is not None and status.drawer.state == "closed":
            self.drawer_dialog.dismiss()

    def logout(self) -> None:
        self.attempt(self.till.logout, on_done=lambda _r: self.go("login"))

    def request_exit(self) -> None:
        """Leaving the kiosk needs a manager (the cashier never reaches the desktop)."""
        def leave(approval: Approval | None = None) -> None:
            try:
                if self.till.cashier is None:
                    raise ApprovalRequired(Action.EXIT_KIOSK)
                authorising_manager(self.till.cashier, Action.EXIT_KIOSK, approval)
            except ApprovalRequired:
                self.ask_manager(Action.EXIT_KIOSK, leave)
                return
            self.allow_exit = True
            if self.on_exit is not None:
                self.on_exit()
            self.stop()

        leave()

    def _on_request_close(self, *_args: Any, **_kwargs: Any) -> bool:
        """True keeps the window open: Alt-F4, Escape and the like do nothing in the kiosk."""
        return self.kiosk and not self.allow_exit
