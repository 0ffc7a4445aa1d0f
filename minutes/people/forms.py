"""Login form (Flask-WTF, so the CSRF token travels with it)."""
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired


class LoginForm(FlaskForm):
    username = StringField(lazy_gettext("用户名"), validators=[DataRequired(message=lazy_gettext("请输入用户名"))])
    password = PasswordField(lazy_gettext("密码"), validators=[DataRequired(message=lazy_gettext("请输入密码"))])
