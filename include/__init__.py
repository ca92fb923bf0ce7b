"""Non-code assets and demo helpers (not part of the installed package)."""
