"""Back-in-stock e-mails: one per consenting customer and restock, rate-limited."""
