"""What an API's refusals mean for a sync: fixed by the user (fatal) or by waiting (retried).

Every message passes through `redact` first: the key or token never reaches a log, an error or an XCom.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from warehouse_sources.errors import SourceConnectionError, SourceDataError, SyncFatalError

# Stripe secret/restricted keys, HubSpot private-app tokens, bearer headers: masked even when
# they are not the connection's own (an API may echo a key back in its message).
KEY_PATTERNS = re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9*]+|\bpat-[A-Za-z0-9-]+|Bearer\s+\S+")


class ApiRequestError(SyncFatalError):
    """The API refused the request (4xx other than 429): a retry cannot fix it."""

    def __init__(self, message: str, status: int, request_id: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.request_id = request_id


class ApiUnavailableError(SourceConnectionError):
    """The API did not answer well within the retry budget (429, 5xx, network): Airflow retries the task."""


class ApiDataError(SourceDataError):
    """A page the API sent cannot be read (not JSON, or not the shape its documentation gives)."""


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return KEY_PATTERNS.sub("***", text)
