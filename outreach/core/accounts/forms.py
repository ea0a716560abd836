"""Flask-WTF forms (every one carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from outreach.core.accounts.passwords import MAX_LENGTH, MIN_LENGTH


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=254)],
                       render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"})
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField("Sign in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        "New password",
        validators=[DataRequired("Enter a new password."), Length(min=MIN_LENGTH, max=MAX_LENGTH,
                                                                   message=f"Use at least {MIN_LENGTH} characters.")],
        description=f"At least {MIN_LENGTH} characters. Three random words work well.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField("Confirm new password", validators=[EqualTo("new_password", "The two new passwords do not match.")],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Change password")


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired("Say what will use this token."), Length(max=100)],
                       description="What will use it, e.g. “MIS sync” or “Power BI”.")
    submit = SubmitField("Create token")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token is needed."""
