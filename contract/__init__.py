"""What the till, head office and the fleet tools agree on: money and VAT, canonical JSON,
the hash chain and signatures, MQTT topics and messages, journal entry schemas, terminal
config. Imports nothing of Kassa's other packages and no UI, MQTT, database or hardware
library."""
