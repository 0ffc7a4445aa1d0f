"""The platforms' callbacks: public (no login, no CSRF token) but verified the way each platform signs them."""
from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext

from minutes.chat import answers, dingtalk, feishu, service, wecom
from minutes.chat.crypto import BadCallback
from minutes.core.errors import DomainError
from minutes.extensions import csrf
from minutes.notify.delivery import register_channel

bp = Blueprint("chat", __name__, url_prefix="/chat")
csrf.exempt(bp)
bp.record_once(lambda state: register_channel(state.app, service.CHANNEL, service.deliver, service.share))

REFUSED = lazy_gettext("回调校验失败：签名、时间戳或加密不符")


@bp.route("/<platform>/callback", methods=["GET", "POST"], endpoint="callback")
def callback(platform: str):
    """Take a card's button press from the configured platform (404 for the others)."""
    if platform != service.platform():
        abort(404)
    config = current_app.config
    try:
        if platform == "feishu":
            return _feishu(config)
        if platform == "wecom":
            return _wecom(config)
        return _dingtalk(config)
    except BadCallback as exc:
        current_app.logger.warning("chat callback from %s refused: %s", platform, exc)
        return jsonify(code=401, msg=str(REFUSED)), 401


def _refused(exc: DomainError):
    return jsonify(code=exc.status, msg=exc.message), exc.status


def _feishu(config):
    if request.method != "POST":
        abort(405)
    event = feishu.read_callback(config, request.headers, request.get_data())
    if event.get("type") == "url_verification":
        return jsonify(challenge=event.get("challenge", ""))
    if (event.get("header") or {}).get("event_type") != "card.action.trigger":
        return jsonify({})  # another event the app is subscribed to: verified, nothing to do here
    event_id, operator, token, choice, value = feishu.press_of(event)
    try:
        answers.take_event("feishu", event_id)
        card, answer = answers.press("feishu", operator, token, choice, value)
    except DomainError as exc:
        return _refused(exc)
    return jsonify(feishu.reply(answer.card, card.token, answer.message, answer.ok))


def _wecom(config):
    if request.method == "GET":
        return current_app.response_class(wecom.verify_url(config, request.args), mimetype="text/plain")
    event = wecom.read_callback(config, request.args, request.get_data())
    if event.get("Event") != "template_card_event":
        return current_app.response_class("", mimetype="text/plain")  # another message or event: nothing to do
    key, operator, token, choice, value = wecom.press_of(request.args, event)
    try:
        answers.take_event("wecom", key)
        _card, answer = answers.press("wecom", operator, token, choice, value)
    except DomainError as exc:
        return _refused(exc)
    text = answer.card.get("result") if answer.ok else answer.message
    return current_app.response_class(wecom.reply(config, operator, text or answer.message), mimetype="application/xml")


def _dingtalk(config):
    values = request.form if request.method == "POST" else request.args
    token, choice = dingtalk.read_press(config, values)
    card = answers.card_by_token("dingtalk", token)
    label = dict(service.ACTION_CHOICES | service.MINUTES_CHOICES).get(choice, choice)
    if request.method == "GET":  # a link preview or a prefetch must never press: ask once more
        return render_template("chat/press.html", card=card, label=label, values=values, answer=None,
                               view=answers.current_view(card))
    try:
        _card, answer = answers.press("dingtalk", None, token, choice)
    except DomainError as exc:
        return render_template("chat/press.html", card=card, label=label, values=values, answer=None,
                               view=answers.current_view(card), error=exc.message), exc.status
    return render_template("chat/press.html", card=card, label=label, values=values, answer=answer)
