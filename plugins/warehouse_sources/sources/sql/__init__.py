"""One SQL table reader (reader.py) over a per-kind `Dialect` (dialect.py): the statements are
written once, and each kind (postgres/, mysql/, snowflake/) gives its SQL's pieces and keeps
only how it connects, streams and holds a snapshot."""
