"""Head office's side of over-the-air updates: rollouts by ring, the sealed release notice,
the artifact server (mutual TLS) and what each terminal reports back."""
