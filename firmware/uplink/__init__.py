"""The till's link to head office over MQTT 5 (the `kassa uplink` process).

`connection` is the only module in firmware that imports paho: it builds the one client
(MQTT 5, TLS, Will). `client` is the delivery protocol on top of it, `outbox` reads the
journal and records head office's acks, `downstream` applies catalogue, price, offer
and config messages. Topics and message formats are the contract's (`contract.wire`).
"""
