from types import TracebackType
from typing import Any

class OAuth2Session:
    def __init__(self, client_id: str | None = None, client_secret: str | None = None,
                 token_endpoint_auth_method: str | None = None, revocation_endpoint_auth_method:
                 str | None = None, scope: str | None = None, state: str | None = None,
                 redirect_uri: str | None = None, token: dict[str, Any] | None = None,
                 token_placement: str = ..., update_token: Any = None,
                 leeway: int = 60, **kwargs: Any) -> None: ...
    def create_authorization_url(self, url: str, state: str | None = None,
                                 code_verifier: str | None = None,
                                 **kwargs: Any) -> tuple[str, str]: ...
    def fetch_token(self, url: str | None = None, body: str = "", method: str = "POST",
                    headers: dict[str, str] | None = None, auth: Any = None,
                    grant_type: str | None = None, state: str | None = None,
                    **kwargs: Any) -> dict[str, Any]: ...
    def __enter__(self) -> OAuth2Session: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...
