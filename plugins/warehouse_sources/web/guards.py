"""Request checks that come before any route: cross-site requests and oversized bodies (DESIGN §4.8).

The UI's login leaves its JWT in the `_token` cookie, which the browser sends with any request
to this host, a form posted from another site included. A request that changes state and is
authenticated only by that cookie must therefore carry what a form cannot send: a JSON content
type and this server's own origin. Bearer-token requests are scripts, not browsers, and pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1_000_000
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE = (
    "cross-site request refused: a request authenticated by Airflow's UI cookie that changes state "
    "must be same-origin JSON (Content-Type: application/json, sent by the Airflow UI's own page); "
    "scripts send 'Authorization: Bearer <token>' instead"
)
TOO_LARGE = f"request body over 1 MB ({MAX_BODY_BYTES} bytes): send fewer or shorter values"


def _own_hosts(headers: Any) -> set[str]:
    """This server's host[:port] as the browser addressed it, and as `[api] base_url` names it."""
    from airflow.configuration import conf

    hosts = {headers.get("host", "").lower()}
    base = urlsplit(conf.get("api", "base_url", fallback="") or "")
    if base.netloc:
        hosts.add(base.netloc.lower())
    return hosts - {""}


def is_json(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def same_origin_json(method: str, headers: Any) -> bool:
    """True when a cookie-authenticated request may go on: safe, or same-origin JSON."""
    if method.upper() in SAFE_METHODS:
        return True
    if not is_json(headers.get("content-type", "")):
        return False
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site.lower() != "same-origin":
        return False
    origin = headers.get("origin")
    if not origin or origin == "null":
        return False
    return urlsplit(origin).netloc.lower() in _own_hosts(headers)


def _too_large() -> Exception:
    """An HTTPException, so that FastAPI's body parsing passes it on as a 413 (not a 400)."""
    from starlette.exceptions import HTTPException

    return HTTPException(413, TOO_LARGE)


class BodyLimit:
    """ASGI middleware: 413 for a body over MAX_BODY_BYTES, before the route parses any of it.

    A declared Content-Length is refused without reading; a chunked body is counted as it
    arrives and refused at the first byte past the limit.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            await _answer_413(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                raise _too_large()
            return message

        await self.app(scope, counted, send)


async def _answer_413(scope: Scope, receive: Receive, send: Send) -> None:
    from starlette.responses import JSONResponse

    await JSONResponse({"detail": TOO_LARGE}, status_code=413, headers={"Connection": "close"})(scope, receive, send)
