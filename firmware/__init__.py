"""Kassa till core: money, catalogue, tickets, the fiscal journal and the till service."""

__version__ = "0.1.0"
