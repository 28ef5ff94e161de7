"""Staff sign-in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
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


class PasskeyAddForm(FlaskForm):
    """A new passkey: the name its owner gives it, and what the browser made (JSON, put in
    the hidden field by static/js/passkey.js)."""

    name = StringField("A name for this passkey", filters=[clean_text],
                       validators=[Length(max=60)])  # blank: "Passkey"
    otp = StringField("Code from your authenticator app", filters=[clean_text],
                      validators=[DataRequired("Type the 6-digit code from your app: it "
                                               "shows it is you adding the passkey."),
                                  Length(max=40)])
    credential = HiddenField(validators=[Length(max=16_384)])


class PasskeySignInForm(FlaskForm):
    """The second step by passkey: what the browser's passkey answered (JSON)."""

    credential = HiddenField(validators=[DataRequired(), Length(max=16_384)])


class PasskeyRemoveForm(FlaskForm):
    """Removing one of one's own passkeys (the CSRF token only)."""
