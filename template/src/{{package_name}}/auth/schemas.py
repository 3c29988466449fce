from typing import Annotated, Literal

from fastapi import Form
from pydantic import BaseModel, Field

# A refresh token is 43 characters; anything far longer is not one.
RefreshTokenText = Annotated[str, Field(min_length=1, max_length=256)]


class TokenRequest:
    """The OAuth2 token request (a form): ``grant_type=password`` with
    ``username`` (the e-mail address) and ``password``, as the Authorize
    button of ``/docs`` sends it, or ``client_credentials`` with
    ``client_id`` and ``client_secret`` for a service account."""

    def __init__(
        self,
        grant_type: Annotated[
            Literal["password", "client_credentials"], Form()
        ] = "password",
        username: Annotated[str | None, Form(max_length=320)] = None,
        password: Annotated[str | None, Form(max_length=1024)] = None,
        client_id: Annotated[str | None, Form(max_length=64)] = None,
        client_secret: Annotated[str | None, Form(max_length=256)] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.client_id = client_id
        self.client_secret = client_secret


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme, not a secret)
    expires_in: int = Field(description="Seconds the access token is valid for")
    refresh_token: str | None = Field(
        default=None,
        description="Exchange at POST /auth/refresh before it expires; "
        "none for service accounts (they ask for a new token instead)",
    )


class RefreshRequest(BaseModel):
    refresh_token: RefreshTokenText
