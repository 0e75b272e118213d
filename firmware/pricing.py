"""Pricing as an explicit step: ticket -> priced ticket, run by the sales service after every
edit of the open ticket (add, quantity, remove, recall, discount, price, customer).

A rule (today: personal offers, firmware/offers.py) sets its own line discounts on the
ticket. It is not an event listener: a rule that fails raises PricingError, which is logged,
and the sales service refuses the edit and leaves the ticket as it was, so nothing is ever
sold at a price a broken rule left half worked out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from firmware.errors import PricingError
from firmware.ticket import Ticket

log = logging.getLogger(__name__)


class Rule(Protocol):
    """One pricing rule.

    `active(ticket)` is cheap (it runs on every edit) and must be True whenever `apply` could
    change this ticket or the ticket one edit later: the sales service keeps a copy of the
    ticket to put back only while some rule is active (an edit that makes a rule apply
    from nothing, such as attaching a customer, says so itself). `apply` sets the rule's
    discounts through the ticket's public methods (Ticket.set_rule_discounts)."""

    name: str

    def active(self, ticket: Ticket) -> bool: ...

    def apply(self, ticket: Ticket) -> None: ...


class Pricing:
    """The rules, in order; the first one that fails stops the step."""

    def __init__(self, rules: Sequence[Rule] = ()) -> None:
        self.rules = list(rules)

    def needed(self, ticket: Ticket) -> bool:
        """Whether pricing the ticket could change it (no rule active: it is priced as is)."""
        return any(rule.active(ticket) for rule in self.rules)

    def price(self, ticket: Ticket) -> Ticket:
        """Applies every active rule and returns the priced ticket; raises PricingError."""
        for rule in self.rules:
            if not rule.active(ticket):
                continue
            try:
                rule.apply(ticket)
            except Exception as exc:
                log.error("pricing rule %s failed; the ticket edit is refused", rule.name,
                          exc_info=True)
                raise PricingError(rule.name) from exc
        return ticket
