"""What every till screen has: the app, and a message line for errors and confirmations."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import OptionProperty, StringProperty
from kivy.uix.screenmanager import Screen


class KassaScreen(Screen):
    message = StringProperty("")
    message_kind = OptionProperty("error", options=("error", "info"))
    """'info' (blue) for a confirmation such as "Ticket parked", 'error' (red) otherwise."""

    default_kind = "error"
    """What a message set directly is (the manager screen's are mostly confirmations);
    KassaApp.show_error always marks a refusal as 'error'."""

    _next_kind: str | None = None  # inform's kind, taken by on_message

    def on_message(self, _screen, _text: str) -> None:  # noqa: ANN001
        self.message_kind = self._next_kind or self.default_kind

    def inform(self, text: str) -> None:
        """A confirmation, not a refusal: shown in the info colour. The kind is set with the
        text, not after it, so the banner does not turn red and back blue on every scan."""
        self._next_kind = "info"
        try:
            self.message = text
        finally:
            self._next_kind = None
        self.message_kind = "info"

    @property
    def app(self):  # noqa: ANN201 - the running KassaApp
        return App.get_running_app()

    @property
    def till(self):  # noqa: ANN201
        return self.app.till
