"""SMTP delivery with a rate limit, and the mail texts in Dutch and English.

Every marketing mail carries an unsubscribe link (and a List-Unsubscribe header) built from
the customer's token: `{base_url}/unsubscribe/{token}`.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid


@dataclass(frozen=True)
class MailSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "Kassa <noreply@localhost>"
    starttls: bool = False
    username: str = ""
    password: str = ""
    base_url: str = "http://localhost:8080"  # where /unsubscribe/<token> is served
    max_per_minute: int = 60
    timeout: float = 10.0


class RateLimited(Exception):
    """The per-minute limit is reached; the caller leaves the rest for the next run."""


class Mailer:
    def __init__(self, settings: MailSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.clock = settings, clock
        self._sent: deque[float] = deque()

    def check_rate(self) -> None:
        """Raises RateLimited when this minute's mails are used up (callers check before
        claiming a recipient, so a refused mail is not marked as being sent)."""
        now = self.clock()
        while self._sent and now - self._sent[0] >= 60:
            self._sent.popleft()
        if len(self._sent) >= self.settings.max_per_minute:
            raise RateLimited(f"{self.settings.max_per_minute} mails in the last minute")

    def unsubscribe_url(self, token: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/unsubscribe/{token}"

    def send(self, to_name: str, to_addr: str, subject: str, text: str,
             unsubscribe_token: str, html: str = "", unsubscribe_url: str = "") -> str:
        """Sends one mail (plain text, with `html` as its alternative when given); returns its
        Message-ID. `unsubscribe_url` replaces the customer link built from the token (the
        owner's summary has its own). Raises RateLimited or smtplib/OS errors."""
        self.check_rate()
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = formataddr((to_name, to_addr))
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=True)  # RFC 5322 requires it; spam filters check it
        msg["Message-ID"] = make_msgid(domain="kassa.local")
        url = unsubscribe_url or self.unsubscribe_url(unsubscribe_token)
        msg["List-Unsubscribe"] = f"<{url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058: POST to the link
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password)
            smtp.send_message(msg)
        self._sent.append(self.clock())
        return msg["Message-ID"]


TEXTS = {
    "nl": {
        "back_subject": "{product} is weer op voorraad",
        "back_body": ("Beste {name},\n\nGoed nieuws: uw favoriet {product} is weer verkrijgbaar "
                      "{where}.\n\nMet vriendelijke groet,\n{shop}\n\n"
                      "Geen berichten meer ontvangen? Meld u af: {unsubscribe}\n"),
        "where_shop": "in onze winkel {location}",
        "where_any_shop": "in onze winkel",
        "where_web": "in onze webwinkel",
        "offer_subject": "Persoonlijke aanbiedingen voor u",
        "offer_body": ("Beste {name},\n\nSpeciaal voor u, bij het scannen van uw klantenkaart:\n\n"
                       "{lines}\n\nMet vriendelijke groet,\n{shop}\n\n"
                       "Geen berichten meer ontvangen? Meld u af: {unsubscribe}\n"),
        "offer_line": "- {percent}% korting op {product}, geldig van {start} t/m {end}",
    },
    "en": {
        "back_subject": "{product} is back in stock",
        "back_body": ("Dear {name},\n\nGood news: your favourite {product} is available again "
                      "{where}.\n\nKind regards,\n{shop}\n\n"
                      "No more messages? Unsubscribe: {unsubscribe}\n"),
        "where_shop": "in our shop {location}",
        "where_any_shop": "in our shop",
        "where_web": "in our webshop",
        "offer_subject": "Personal offers for you",
        "offer_body": ("Dear {name},\n\nJust for you, when you scan your loyalty card:\n\n"
                       "{lines}\n\nKind regards,\n{shop}\n\n"
                       "No more messages? Unsubscribe: {unsubscribe}\n"),
        "offer_line": "- {percent}% off {product}, valid {start} to {end}",
    },
}


MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}


def text(language: str, key: str, **values: object) -> str:
    return TEXTS.get(language, TEXTS["en"])[key].format(**values)


def long_date(language: str, iso_day: str) -> str:
    """'2026-12-03' -> '3 december 2026' (nl) or '3 December 2026' (en)."""
    day = dt.date.fromisoformat(iso_day)
    return f"{day.day} {MONTHS.get(language, MONTHS['en'])[day.month - 1]} {day.year}"
