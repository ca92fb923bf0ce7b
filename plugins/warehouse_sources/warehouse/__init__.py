"""The Delta Lake warehouse: one Delta table per synced table, state kept in its commits."""
