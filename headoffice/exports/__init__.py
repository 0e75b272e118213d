"""Tax overviews for the Belastingdienst: VAT return figures, XAF 4.0 auditfile, journal dumps."""
