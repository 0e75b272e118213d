"""One stock for every shop and the webshop, kept from the journal and webshop orders."""
