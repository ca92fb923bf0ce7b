"""Airflow's own authentication and DAG permissions, applied to every route of the plugin app.

Plugin FastAPI apps are open by default (DESIGN §6). A middleware answers 401 before anything
else (even before a malformed body is looked at) unless the request carries a valid Airflow JWT:
a bearer token from `POST /auth/token`, or the UI's `_token` cookie. Permissions are then
checked per route on the source's DAG, the way Airflow's own routes check them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from fastapi import Request, Response

Action = Literal["read", "run", "edit", "delete"]
UNAUTHENTICATED = (
    "not authenticated: send 'Authorization: Bearer <token>' with a token from POST /auth/token, "
    "or sign in to Airflow's UI"
)
_VERBS = {"read": "read", "run": "trigger runs of", "edit": "edit", "delete": "delete"}


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _token(request: Request) -> str | None:
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    return _bearer(request) or request.cookies.get(COOKIE_NAME_JWT_TOKEN)


async def require_user(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Middleware: 401 for a missing, expired or invalid token, whatever the route; then 403 for a
    cookie-authenticated request that changes state and is not same-origin JSON (see `guards`)."""
    from airflow.api_fastapi.core_api.security import resolve_user_from_token
    from fastapi import HTTPException
    from fastapi.responses import JSONResponse

    from warehouse_sources.web.guards import CROSS_SITE, same_origin_json

    try:
        await resolve_user_from_token(_token(request))
    except HTTPException:
        return JSONResponse({"detail": UNAUTHENTICATED}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    if _bearer(request) is None and not same_origin_json(request.method, request.headers):
        return JSONResponse({"detail": CROSS_SITE}, status_code=403)
    return await call_next(request)


def _dag_permission(action: Action) -> tuple[Any, Any]:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

    return {"read": ("GET", None), "run": ("POST", DagAccessEntity.RUN), "edit": ("PUT", None),
            "delete": ("DELETE", None)}[action]  # fmt: skip


def _details(dag_id: str, team_name: str | None) -> Any:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    return DagDetails(id=dag_id, team_name=team_name)


def allowed(user: Any, dag_id: str, action: Action) -> bool:
    """Whether `user` may do `action` on the DAG, its team included (as `requires_access_dag` checks).

    The auth manager only checks a team when the request names one, so the DAG's team (its
    bundle's, in a multi-team deployment) is looked up and passed, never left out.
    """
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.dag import DagModel

    method, entity = _dag_permission(action)
    details = _details(dag_id, DagModel.get_team_name(dag_id))
    return get_auth_manager().is_authorized_dag(method=method, access_entity=entity, details=details, user=user)


def authorize(user: Any, dag_id: str, action: Action) -> None:
    """403 unless `user` has the permission on `dag_id` that `action` needs (DESIGN §4.7)."""
    from fastapi import HTTPException

    if not allowed(user, dag_id, action):
        raise HTTPException(403, f"user {user.get_name()!r} may not {_VERBS[action]} DAG {dag_id!r}")


def is_admin(user: Any) -> bool:
    """Whether `user` may change Airflow's configuration: the bar for what belongs to no source's DAG."""
    from airflow.api_fastapi.app import get_auth_manager

    return bool(get_auth_manager().is_authorized_configuration(method="PUT", user=user))


def readable_dag_ids(user: Any, dag_ids: list[str]) -> set[str]:
    """The DAGs among `dag_ids` the user may read (teams included), in one call to the auth manager."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.dag import DagModel

    teams = DagModel.get_dag_id_to_team_name_mapping(dag_ids) if dag_ids else {}
    requests: list[Any] = [{"method": "GET", "details": _details(d, teams.get(d))} for d in dag_ids]
    manager = get_auth_manager()
    if manager.batch_is_authorized_dag(requests, user=user):
        return set(dag_ids)
    return {d for d in dag_ids if manager.is_authorized_dag(method="GET", details=_details(d, teams.get(d)), user=user)}
