"""The chain-scale soak: fleet, broker, head office and simulated terminals (run.py)."""
