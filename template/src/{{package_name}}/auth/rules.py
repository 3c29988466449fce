"""Deny by default: every route declares who may call it.

A rule is a dependency marked with ``@access_rule``: ``deps.Public``,
``deps.CurrentPrincipal`` (and what builds on it: an owner check, a role, a
scope). ``create_app()`` refuses to start while a route has none, so a new
route cannot be public by omission.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

Dependency = TypeVar("Dependency", bound=Callable[..., object])

_RULE = "__access_rule__"

# public: anyone. signed-in: any principal (401 without one). owner: the
# principal a resource belongs to, and admins (404 for anyone else).
# restricted: principals with a role, scope or grant (403 for the others).
# setting: decided by a setting (see its description).
RuleKind = Literal["public", "signed-in", "owner", "restricted", "setting"]


@dataclass(frozen=True)
class AccessRule:
    kind: RuleKind
    description: str


def access_rule(kind: RuleKind, description: str) -> Callable[[Dependency], Dependency]:
    """Mark a dependency as one that decides who may call a route."""

    def mark(dependency: Dependency) -> Dependency:
        setattr(dependency, _RULE, AccessRule(kind, description))
        return dependency

    return mark


def rules_of(route: RouteContext) -> list[AccessRule]:
    """The access rules a route's dependencies declare (its routers' included)."""
    dependant = getattr(route, "dependant", None)
    return list(_rules(dependant)) if isinstance(dependant, Dependant) else []


def _rules(dependant: Dependant) -> Iterator[AccessRule]:
    for dependency in dependant.dependencies:
        rule = getattr(dependency.call, _RULE, None)
        if rule is not None:
            yield rule
        yield from _rules(dependency)


def app_routes(app: FastAPI) -> list[RouteContext]:
    """Every route the app serves, as included (prefixes and router-level
    dependencies applied), except FastAPI's own documentation pages."""
    documentation = {
        app.openapi_url,
        app.docs_url,
        app.redoc_url,
        app.swagger_ui_oauth2_redirect_url,
    }
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) or route.path not in documentation
    ]


def describe(route: RouteContext) -> str:
    methods = sorted(route.methods or ["WS"])  # a socket route has no methods
    return f"{' '.join(methods)} {route.path}"


def check_access_rules(app: FastAPI) -> None:
    missing = [describe(route) for route in app_routes(app) if not rules_of(route)]
    if missing:
        raise RuntimeError(
            "every route declares who may call it (deps.Public, CurrentPrincipal, "
            "require_role, require_scope…); these declare nothing: "
            + ", ".join(missing)
        )
