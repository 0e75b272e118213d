"""The software version: one source for the journal's software_start, the uplink status and
the XAF header."""

SOFTWARE_VERSION = "0.1.0"
