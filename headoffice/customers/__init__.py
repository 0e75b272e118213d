"""Customer accounts, loyalty cards, consent, favourites and erasure at head office."""
