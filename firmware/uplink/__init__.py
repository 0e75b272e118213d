"""The till's link to head office over MQTT 5.

Only `firmware.uplink.client` imports paho; `protocol`, `outbox` and `downstream` are plain
Python so head office and tests can share the wire format without pulling in a transport.
"""
