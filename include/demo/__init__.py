"""Demo helpers: an embedded PostgreSQL and a sample-data generator."""
