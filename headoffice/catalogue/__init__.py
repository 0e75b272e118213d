"""Head office's product master: products, barcodes, cost prices, deposit types, price lists
per store with scheduled changes, promotions, the audit trail, and what is published to the
tills (a versioned full catalogue or a delta per store). See docs/operations/product-master.md.
"""
