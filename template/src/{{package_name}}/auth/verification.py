"""Bearer tokens in, a ``Principal`` out: this service's own tokens, or an
identity provider's. Both verifiers refuse the same things the same way."""

import math
from typing import Any, Protocol

import jwt

from .principal import Principal, valid_subject
from .settings import AuthSettings


class InvalidTokenError(Exception):
    """The token proves nothing: answered 401 (HTTP), or 403 to a socket's
    handshake. The message is safe to show the client."""


class AuthUnavailableError(Exception):
    """The token cannot be checked now (the identity provider's keys are
    unreachable): answered 503, not 401."""


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal: ...

    async def close(self) -> None: ...


# PyJWT's errors, in words for the client (its own messages may quote input).
_REASONS: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token is for another audience"),
    (jwt.InvalidIssuerError, "the token is from another issuer"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted"),
    (jwt.InvalidSignatureError, "the token's signature is invalid"),
]


def decode_claims(
    token: str, key: Any, settings: AuthSettings, algorithms: list[str]
) -> dict[str, Any]:
    """Verified claims, or InvalidTokenError with a reason.

    Anything PyJWT raises on hostile input is a bad token, not a 500: a NaN
    or 1e999 ``exp`` makes it raise ValueError or OverflowError itself.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            options={"require": ["exp", "sub"]},
            leeway=5,
        )
    except jwt.PyJWTError as exc:
        reason = next((r for kind, r in _REASONS if isinstance(exc, kind)), None)
        raise InvalidTokenError(reason or "the token is malformed") from exc
    except (ValueError, TypeError, OverflowError, UnicodeError) as exc:
        raise InvalidTokenError("the token is malformed") from exc
    expires = claims["exp"]
    if not isinstance(expires, int | float) or not math.isfinite(expires):
        raise InvalidTokenError("the token is malformed")
    return claims


def principal_from_claims(claims: dict[str, Any], roles_claim: str) -> Principal:
    subject = claims.get("sub")
    if not valid_subject(subject):
        raise InvalidTokenError("the token names no valid subject")
    roles = _claim_path(claims, roles_claim)
    if roles is None:
        roles = []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidTokenError(f"the token's {roles_claim!r} claim is not a list")
    scopes = _scopes(claims)
    user_id = claims.get("uid")
    if user_id is not None and (type(user_id) is not int or user_id < 1):
        raise InvalidTokenError("the token's uid claim is invalid")
    return Principal(subject, frozenset(roles), scopes, user_id)


def _claim_path(claims: dict[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    # OAuth 2.0 writes `scope` as one space-separated string; some providers
    # (Azure AD, Okta) write a list in `scp`.
    scope, scp = claims.get("scope"), claims.get("scp")
    if isinstance(scope, str):
        return frozenset(scope.split())
    if isinstance(scp, list) and all(isinstance(s, str) for s in scp):
        return frozenset(scp)
    if scope is None and scp is None:
        return frozenset()
    raise InvalidTokenError("the token's scope claim is malformed")


def create_token_verifier(
    settings: AuthSettings, timeout_seconds: float
) -> TokenVerifier:
    if settings.auth_jwks_url is not None:
        from .jwks import JwksTokenVerifier

        return JwksTokenVerifier(settings, timeout_seconds=timeout_seconds)
    from .tokens import LocalTokenVerifier

    return LocalTokenVerifier(settings)
