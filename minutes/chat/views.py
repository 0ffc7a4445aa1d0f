"""The platforms' callbacks: public (no login, no CSRF token) but verified the way each platform signs them."""
from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext

from minutes.chat import answers, calendar_events, dingtalk, feishu, service, wecom, wecom_callback
from minutes.chat.crypto import BadCallback
from minutes.core.errors import DomainError
from minutes.core.timefmt import utcnow
from minutes.extensions import csrf
from minutes.notify.delivery import register_channel

bp = Blueprint("chat", __name__, url_prefix="/chat")
csrf.exempt(bp)
bp.record_once(lambda state: register_channel(state.app, service.CHANNEL, service.deliver, service.share))
bp.record_once(lambda state: register_channel(state.app, calendar_events.CHANNEL, calendar_events.deliver))

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
    try:
        reply = wecom_callback.handle(config, request.args, event)
    except DomainError as exc:
        return _refused(exc)
    return current_app.response_class(reply, mimetype="application/xml" if reply else "text/plain")


def _dingtalk(config):
    values = request.form if request.method == "POST" else request.args
    token, choice = dingtalk.read_press(config, values)
    card = answers.card_by_token("dingtalk", token)
    label = dict(service.ACTION_CHOICES | service.MINUTES_CHOICES).get(choice, choice)
    try:
        needs = answers.input_for(card, choice, utcnow())
    except DomainError as exc:  # the action was deleted meanwhile
        return render_template("chat/press.html", card=card, label=label, values=values, answer=None, view=None,
                               needs=None, error=exc.message), exc.status

    def ask_again(error: str, status: int):
        return render_template("chat/press.html", card=card, label=label, values=values, answer=None,
                               view=answers.current_view(card), needs=needs, error=error), status

    if request.method == "GET":  # a link preview or a prefetch must never press: ask once more (and for the input)
        return ask_again("", 200)
    try:
        _card, answer = answers.press("dingtalk", None, token, choice, values.get("value", ""))
    except DomainError as exc:
        return ask_again(exc.message, exc.status)
    if needs and answer.asks_again:  # the input refused (a day off, no comment): keep it
        return ask_again(answer.message, 400)
    return render_template("chat/press.html", card=card, label=label, values=values, answer=answer)
