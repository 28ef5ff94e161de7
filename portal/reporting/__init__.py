"""The public side: pupil and parent forms, the follow-up page, quick exit."""

from .views import bp

__all__ = ["bp"]
