"""Personal offers: computed from purchase history, sent by e-mail and to the tills."""
