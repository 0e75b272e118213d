"""Fixtures of the head-office dashboard tests: an SMTP server (aiosmtpd) that keeps the mails."""

from __future__ import annotations

import pytest

from tests.fixtures_services import free_port


@pytest.fixture
def smtp_inbox():
    """(port, inbox): every mail the local SMTP server receives lands in `inbox`."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    inbox: list = []

    class Collect(Message):
        def handle_message(self, message) -> None:
            inbox.append(message)

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()
