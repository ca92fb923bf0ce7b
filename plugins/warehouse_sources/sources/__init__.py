"""Source readers: one per kind, each streams Arrow record batches of bounded size."""
