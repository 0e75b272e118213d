"""Fixtures of the webshop tests: the head-office database fixtures of tests/customers."""

from tests.customers.conftest import office, shop_till  # noqa: F401
