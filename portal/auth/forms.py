"""Staff sign-in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from ..forms import clean_text


class LoginForm(FlaskForm):
    email = EmailField("Email address", filters=[clean_text],
                       validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password",
                             validators=[InputRequired("Enter your password."), Length(max=256)])


class SetPasswordForm(FlaskForm):
    """The password a new member of staff sets from their invitation link."""

    new_password = PasswordField("Choose a password", validators=[
        InputRequired("Choose a password."), Length(max=256)])
    repeat_password = PasswordField("The same password again", validators=[
        InputRequired("Type the password again."), Length(max=256)])


class OtpForm(FlaskForm):
    """The second factor: a 6-digit code from the authenticator app, or a recovery code."""

    otp = StringField("Code from your authenticator app", filters=[clean_text],
                      validators=[DataRequired("Enter the 6-digit code from your app."),
                                  Length(max=40)])


class LogoutForm(FlaskForm):
    """Signing out is a POST with a CSRF token, so a link elsewhere can't sign anyone out."""


class SsoStartForm(FlaskForm):
    """Signing in with the school's own accounts starts from the email address: it says
    which school's (or trust's) sign-in service to go to, and is passed on to it."""

    email = EmailField("Your school email address", filters=[clean_text],
                       validators=[DataRequired("Enter your school email address."),
                                   Length(max=254)])
