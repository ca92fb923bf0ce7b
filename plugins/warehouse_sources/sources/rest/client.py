"""HTTP for API sources: retries that honour `Retry-After` within a time budget, errors that say why.

429 and 5xx (and a dropped connection) are retried: after `Retry-After` when the API gives one,
otherwise after an exponential backoff with full jitter, capped; never past the run's budget,
after which the task fails as transient (Airflow retries it; the next run resumes from the last
committed cursor). Any other 4xx fails at once with the API's own message and request id.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from warehouse_sources.sources.rest.errors import ApiDataError, ApiRequestError, ApiUnavailableError, redact

if TYPE_CHECKING:
    import httpx

LOG = logging.getLogger("warehouse_sources.sources.rest")
RETRY_BUDGET = 900.0  # seconds of waiting one reader may spend on retries
BASE_WAIT = 0.5
MAX_WAIT = 60.0
TIMEOUT = 60.0
CONNECT_ATTEMPTS = 3  # a host that refuses or does not resolve is a setup fault, not a busy API
ErrorText = Callable[[Any], str]  # the API's error body -> its own message


def _plain_message(body: Any) -> str:
    return str(body)[:500]


class ApiClient:
    """One HTTP/1.1 session to an API, with its credentials in headers that never appear in messages."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        *,
        service: str,
        secrets: tuple[str, ...],
        error_text: ErrorText = _plain_message,
        budget: float = RETRY_BUDGET,
        max_wait: float = MAX_WAIT,
        timeout: float = TIMEOUT,
    ) -> None:
        import httpx

        quiet_page_logs()
        self.service = service
        self.base_url = base_url.rstrip("/")
        self._secrets = secrets
        self._error_text = error_text
        self._budget = budget
        self._max_wait = max_wait
        self._spent = 0.0
        self.requests = 0
        self.retries = 0
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        return self._send("GET", path, params=params or [])

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("POST", path, json=body)

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        import httpx

        attempt = 0
        while True:
            self.requests += 1
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {self._redact(str(exc)) or 'no answer'}"
                if isinstance(exc, httpx.ConnectError) and attempt + 1 >= CONNECT_ATTEMPTS:
                    raise ApiUnavailableError(
                        f"{self.service} API: cannot reach {self.base_url} after {attempt + 1} attempts ({reason}); "
                        "check the connection's host (the API's base URL) and the network"
                    ) from None
                wait = self._backoff(attempt)
            else:
                if response.status_code < 300:
                    return self._json(response, path)
                if response.status_code != 429 and response.status_code < 500:
                    raise self._refusal(response, path)
                reason = f"HTTP {response.status_code} ({self._message(response)})"
                wait = _retry_after(response) or self._backoff(attempt)
            attempt += 1
            self._wait(wait, attempt, reason, path)

    def _wait(self, wait: float, attempt: int, reason: str, path: str) -> None:
        if self._spent + wait > self._budget:
            raise ApiUnavailableError(
                f"{self.service} API {path}: still failing after {attempt} attempts ({reason}); the retry budget of "
                f"{self._budget:.0f} s is spent. The task is retried; the next run resumes from the last committed "
                "cursor"
            )
        self.retries += 1
        self._spent += wait
        LOG.warning("%s API %s: %s; retry %d in %.1f s", self.service, path, reason, attempt, wait)
        time.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to the capped exponential step, so many readers spread out."""
        return random.uniform(0, min(self._max_wait, BASE_WAIT * 2**attempt))

    def _json(self, response: httpx.Response, path: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ApiDataError(
                f"{self.service} API {path}: the answer is not a JSON object (HTTP {response.status_code}, "
                f"{self._redact(response.text[:200])!r}); check the connection's host is the API's base URL"
            )
        return body

    def _refusal(self, response: httpx.Response, path: str) -> ApiRequestError:
        status = response.status_code
        request_id = response.headers.get("request-id") or response.headers.get("x-request-id") or None
        fix = {
            401: "the key or token was refused (wrong, revoked or expired): put a valid one in the connection's "
            "password",
            403: "the key lacks a permission this object needs: grant read access to it, or use a key that has it",
            404: "the API has no such path: check the object's name and the connection's host (the API's base URL)",
        }.get(status, "fix the request the message names")
        where = f" (request id {request_id})" if request_id else ""
        return ApiRequestError(
            f"{self.service} API {path}: HTTP {status}: {self._message(response)}{where}; {fix}", status, request_id
        )

    def _message(self, response: httpx.Response) -> str:
        try:
            text = self._error_text(response.json())
        except ValueError:
            text = response.text[:300] or response.reason_phrase
        return self._redact(" ".join(str(text).split()))

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)


def quiet_page_logs() -> None:
    """httpx logs every request at INFO: one line per page (10,000 for a million objects) in a task's
    log. Raised to WARNING unless someone set its level on purpose."""
    logger = logging.getLogger("httpx")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.WARNING)


def _retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds (a number, or an HTTP date); None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
