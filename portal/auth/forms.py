"""Staff sign-in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from ..forms import clean_text


class LoginForm(FlaskForm):
    email = EmailField("Email address", filters=[clean_text],
                       validators=[InputRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password",
                             validators=[InputRequired("Enter your password."), Length(max=256)])


class LogoutForm(FlaskForm):
    """Signing out is a POST with a CSRF token, so a link elsewhere can't sign anyone out."""
