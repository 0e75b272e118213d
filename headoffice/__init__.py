"""Head office: ingest of the sales feed, its database, dashboard and exports."""
