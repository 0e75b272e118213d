"""Fleet provisioning: CA, enrollment bundles, broker config, revocation."""
