"""Admin pages for the group robots (钉钉 / 企业微信 / 飞书 webhooks per department) and their deliveries."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from minutes.core.errors import DomainError
from minutes.extensions import db
from minutes.notify import bots as bot_service
from minutes.notify import service
from minutes.notify.models import BotVendor
from minutes.notify.webhooks import DEFAULT_PER_MINUTE
from minutes.people.service import list_departments, require_admin
from minutes.webutil import is_htmx, render

bp = Blueprint("notify", __name__, url_prefix="/notify")


@bp.before_request
def admins_only():
    require_admin(current_user)


def _page(status: int = 200, **extra):
    context = dict(bots=bot_service.list_bots(), stats=bot_service.bot_stats(), departments=list_departments(),
                   vendors=list(BotVendor), limits=DEFAULT_PER_MINUTE, values={}, errors={})
    context.update(extra)
    return render("notify/bots.html", "notify/_bots.html", status, **context)


@bp.get("/bots")
def bots():
    """Every department's robots, with what is queued and what failed."""
    return _page()


def _fields(form) -> dict:
    return dict(department_id=form.get("department_id"), vendor=form.get("vendor", ""), name=form.get("name", ""),
                webhook_url=form.get("webhook_url", ""), secret=form.get("secret", ""), per_minute=form.get("per_minute"))


@bp.post("/bots")
def create():
    """Add a robot."""
    try:
        bot = bot_service.create_bot(current_user, **_fields(request.form))
    except DomainError as exc:
        db.session.rollback()
        return _page(exc.status, values=request.form, errors=exc.fields or {"_": exc.message}, open_new=True)
    return _done(gettext("已添加 %(bot)s", bot=bot.label))


@bp.route("/bots/<int:bot_id>/edit", methods=["GET", "POST"])
def edit(bot_id):
    """Change a robot (an empty secret keeps the stored one)."""
    bot = bot_service.get_bot(bot_id)
    if request.method == "GET":
        return render_template("notify/bot_edit.html", bot=bot, departments=list_departments(), vendors=list(BotVendor),
                               limits=DEFAULT_PER_MINUTE, values={}, errors={})
    form = request.form
    try:
        bot_service.update_bot(current_user, bot, **_fields(form), enabled="enabled" in form)
    except DomainError as exc:
        db.session.rollback()
        bot = bot_service.get_bot(bot_id)
        return render_template("notify/bot_edit.html", bot=bot, departments=list_departments(), vendors=list(BotVendor),
                               limits=DEFAULT_PER_MINUTE, values=form, errors=exc.fields or {"_": exc.message}), exc.status
    flash(gettext("机器人设置已保存"), "success")
    return redirect(url_for("notify.bots"), 303)


@bp.post("/bots/<int:bot_id>/delete")
def delete(bot_id):
    """Remove a robot; its undelivered messages are marked failed."""
    bot = bot_service.get_bot(bot_id)
    label = bot.label
    bot_service.delete_bot(current_user, bot)
    return _done(gettext("已删除 %(bot)s", bot=label))


@bp.post("/bots/<int:bot_id>/test")
def test(bot_id):
    """Queue a test message to the robot."""
    bot = bot_service.get_bot(bot_id)
    try:
        bot_service.send_test(current_user, bot)
    except DomainError as exc:
        db.session.rollback()
        return _page(exc.status, notice_error=exc.message)
    return _done(gettext("测试消息已排队，将发到 %(bot)s（遵守每分钟%(per_minute)s条的限制）", bot=bot.label,
                         per_minute=bot.per_minute))


@bp.get("/bots/<int:bot_id>")
def show(bot_id):
    """A robot's recent messages, failures first, with retry."""
    bot = bot_service.get_bot(bot_id)
    return render_template("notify/bot.html", bot=bot, messages=bot_service.bot_messages(bot),
                           stats=bot_service.bot_stats().get(bot.id, {}))


@bp.post("/messages/<int:message_id>/retry")
def retry(message_id):
    """Send a failed robot message again with the next delivery."""
    try:
        msg = service.retry(current_user, message_id)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(request.referrer or url_for("notify.bots"), 303)
    flash(gettext("已重新排队，下一次发送时重试"), "success")
    return redirect(url_for("notify.show", bot_id=msg.bot_id) if msg.bot_id else url_for("notify.bots"), 303)


def _done(notice: str):
    if is_htmx():
        return _page(notice=notice)
    flash(notice, "success")
    return redirect(url_for("notify.bots"), 303)


# --- the local mailbox (make run) ------------------------------------------------------------

dev_bp = Blueprint("dev_mailbox", __name__, url_prefix="/dev")


@dev_bp.get("/mailbox")
def index():
    """The email the app sent, as it would arrive (only with MAIL_DEV_MAILBOX=1; 404 otherwise)."""
    return render("notify/mailbox.html", None, messages=service.dev_mailbox_messages())


@dev_bp.get("/mailbox/<int:message_id>.html")
def html_body(message_id):
    """One message's HTML part as the recipient's mail client would show it: sandboxed, nothing loads or runs."""
    message = service.dev_mailbox_message(message_id)
    response = current_app.response_class(message.body_html or "", mimetype="text/html")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    return response
