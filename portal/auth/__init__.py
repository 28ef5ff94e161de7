"""Staff sign-in and sign-out."""

from flask import Blueprint

from .views import bp, login_manager

__all__ = ["Blueprint", "bp", "login_manager"]
