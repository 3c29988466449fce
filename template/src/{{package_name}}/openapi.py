"""Response descriptions shared by routes, so that the OpenAPI document names
every status a route can answer."""

from typing import Any

Responses = dict[int | str, dict[str, Any]]

NOT_SIGNED_IN: Responses = {
    401: {"description": "No valid access token (see WWW-Authenticate)"}
}
ADMINS_ONLY: Responses = {**NOT_SIGNED_IN, 403: {"description": "Needs the admin role"}}
