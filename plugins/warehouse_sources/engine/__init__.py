"""One table's sync: checks, reads (cursor, boundary), state and progress. No Airflow imports.

`engine.sync.sync_table` is the entry; the operators call it with an open source reader.
"""
