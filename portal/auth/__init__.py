"""Staff sign-in and sign-out."""

from flask import Blueprint

from . import views_passkeys, views_sso  # noqa: F401 - their routes join the blueprint
from .views import bp, login_manager

__all__ = ["Blueprint", "bp", "login_manager"]
