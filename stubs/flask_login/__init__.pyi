from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask

_Loader = TypeVar("_Loader", bound=Callable[[str], Any])

# The user object the loader returned (the portal's User), or an anonymous one.
current_user: Any

class LoginManager:
    login_view: str | None
    login_message: str
    session_protection: str | None
    def __init__(self, app: Flask | None = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = True) -> None: ...
    def user_loader(self, callback: _Loader) -> _Loader: ...

def login_user(user: Any, remember: bool = False, duration: timedelta | None = None,
               force: bool = False, fresh: bool = True) -> bool: ...
def logout_user() -> bool: ...
