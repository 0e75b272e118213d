"""Anomaly alerts: rules on the live feed, a dedup key per cause, e-mail and webhook delivery."""
