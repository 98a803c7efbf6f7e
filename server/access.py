"""Who is asking, and the access rule every view declares.

Every view function carries an `access_rule`: `public`, `signed_in`,
`requires(action)`, `device` (a display's token) or `internal` (monitoring only).
The app refuses to start if a route has none, and the route × role test reads the
same table. Object-level checks (is this user, node or item inside the principal's
subtree?) happen in the services via rights.can().
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask_login import current_user

from server.errors import Forbidden, NotFound, Unauthorized
from server.extensions import db
from server.models.users import User
from server.rights import Principal, can_anywhere
from server.services.context import Ctx, principal_for
from server.services.displays import authenticate
from server.services.tokens import user_for_token

F = TypeVar("F", bound=Callable[..., Any])

API_PREFIX = "/api/v1/"


@dataclass(frozen=True)
class AccessRule:
    """kind is "public", "signed_in", "device" or "action"; action names the right needed."""

    kind: str
    action: str | None = None


def _mark(view: F, rule: AccessRule) -> F:
    view.access_rule = rule  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    """Anyone may call this view, signed in or not."""
    return _mark(view, AccessRule("public"))


def internal_caller() -> bool:
    """Whether the request comes from monitoring: an address in METRICS_ALLOW_FROM, or the
    bearer token METRICS_TOKEN."""
    token = str(current_app.config["METRICS_TOKEN"])
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False)
               for n in current_app.config["METRICS_ALLOW_FROM"])


def internal(view: F) -> F:
    """Only for monitoring (internal_caller); to everyone else, people included, the page
    does not exist (404)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not internal_caller():
            raise NotFound()
        return view(*args, **kwargs)
    return _mark(wrapper, AccessRule("internal"))  # type: ignore[arg-type]


def signed_in(view: F) -> F:
    """Any signed-in, active user may call this view."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_principal() is None:
            raise Unauthorized()
        return view(*args, **kwargs)

    return _mark(wrapper, AccessRule("signed_in"))  # type: ignore[arg-type]


def requires(action: str) -> Callable[[F], F]:
    """The caller needs action on at least one node; services check the object's node."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise Unauthorized()
            if not can_anywhere(principal, action):
                raise Forbidden()
            return view(*args, **kwargs)

        return _mark(wrapper, AccessRule("action", action))  # type: ignore[arg-type]

    return decorate


def device(view: F) -> F:
    """Only a paired display may call this view, with its device token (never a person).

    The display's id and the change counter it was checked at land in
    g.display_id and g.screen_version.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        found = authenticate(db.session, secret.strip()) \
            if scheme.lower() == "bearer" and secret.strip() else None
        if found is None:
            raise Unauthorized()
        g.display_id, g.screen_version = found
        return view(*args, **kwargs)

    return _mark(wrapper, AccessRule("device"))  # type: ignore[arg-type]


def is_api_request() -> bool:
    """Whether this request goes to the token-authenticated JSON API."""
    return request.path.startswith(API_PREFIX)


def current_user_obj() -> User | None:
    """The signed-in user (by session in the UI, by token in the API), or None."""
    if "vitrina_user" not in g:
        user: User | None = None
        if is_api_request():
            header = request.headers.get("Authorization", "")
            scheme, _, secret = header.partition(" ")
            if scheme.lower() == "bearer" and secret:
                user = user_for_token(Ctx(db.session, None, "api"), secret.strip())
        elif current_user.is_authenticated:
            user = current_user._get_current_object()  # type: ignore[attr-defined]
        g.vitrina_user = user
    found: User | None = g.vitrina_user
    return found


def current_principal() -> Principal | None:
    """The principal of this request, built once per request."""
    if "vitrina_principal" not in g:
        user = current_user_obj()
        g.vitrina_principal = principal_for(db.session, user) if user else None
    principal: Principal | None = g.vitrina_principal
    return principal


def request_ctx() -> Ctx:
    """The service context of this request: session, principal, user name, address."""
    principal = current_principal()
    return Ctx(
        session=db.session,
        principal=principal,
        actor_name=principal.username if principal else "anonymous",
        address=request.remote_addr,
    )


def check_every_route_has_a_rule(app: Flask) -> None:
    """Refuse to build an app that has a route without an access rule."""
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if not hasattr(app.view_functions[rule.endpoint], "access_rule")
    ]
    if missing:
        raise RuntimeError(f"routes without an access rule: {', '.join(sorted(missing))}")
