from typing import Any

class CodeIDToken(dict[str, Any]):
    def __init__(self, claims: dict[str, Any], header: Any,
                 options: dict[str, dict[str, Any]] | None = None,
                 params: dict[str, Any] | None = None) -> None: ...
    def validate(self, now: int | None = None, leeway: int = 0) -> None: ...
