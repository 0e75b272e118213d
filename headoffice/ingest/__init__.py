"""`kassa office ingest`: verify and store the terminals' journals, exactly once each.

validate (pure checks of one message) -> store (one transaction per batch) -> worker (MQTT,
acknowledging only after commit) -> supervisor (N worker processes, restarted if they die).
"""
