"""The webshop link: an interface any webshop can implement, and a WooCommerce connector."""
