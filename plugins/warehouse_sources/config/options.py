"""What a kind's reader needs besides its connection and table: typed, and light to import.

The plan carries a source's `ReaderOptions` to every task (plan.py); a kind whose reader needs
more than the connection subclasses it (config/bucket.py `BucketOptions`). No pydantic here: the
plan, and so the engine, import this module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReaderOptions:
    """Nothing beyond the connection (the database kinds)."""
