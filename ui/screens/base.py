"""What every till screen has: the app, and a message line for errors and confirmations."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen


class KassaScreen(Screen):
    message = StringProperty("")

    @property
    def app(self):  # noqa: ANN201 - the running KassaApp
        return App.get_running_app()

    @property
    def till(self):  # noqa: ANN201
        return self.app.till
