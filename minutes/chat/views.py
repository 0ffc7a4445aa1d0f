"""The platforms' callbacks: public (no login, no CSRF token) but verified the way each platform signs them.

DingTalk's buttons are links, not callbacks: their signature only proves the link is ours, so the view signs the
person in first (免登 or the login page) and acts only for the card's recipient, with the session's CSRF token."""
from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext
from flask_login import current_user, logout_user

from minutes.chat import answers, calendar_events, dingtalk, feishu, service, wecom, wecom_callback
from minutes.chat.crypto import BadCallback
from minutes.core.errors import DomainError
from minutes.core.timefmt import utcnow
from minutes.extensions import csrf
from minutes.identity import dingtalk as dingtalk_sign_in
from minutes.identity.service import is_configured
from minutes.notify.delivery import register_channel
from minutes.people.views import login_url
from minutes.webutil import session_is_current

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
    """A work notification's button: a signed link that acts only for its recipient, signed in to this site."""
    values = request.form if request.method == "POST" else request.args
    token, choice = dingtalk.read_press(config, values)
    if not current_user.is_authenticated or not session_is_current():
        return _sign_in_first(config, values)
    if request.method == "POST" and config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()  # the press now acts on the session: a page elsewhere must not post it
    try:
        card = answers.card_for("dingtalk", token, user=current_user._get_current_object())
    except DomainError as exc:  # someone else's link (forwarded), or a card that no longer exists
        return render_template("error.html", message=exc.message, status=exc.status), exc.status
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
        _card, answer = answers.press("dingtalk", None, token, choice, values.get("value", ""),
                                      user=current_user._get_current_object())
    except DomainError as exc:
        return ask_again(exc.message, exc.status)
    if needs and answer.asks_again:  # the input refused (a day off, no comment): keep it
        return ask_again(answer.message, 400)
    return render_template("chat/press.html", card=card, label=label, values=values, answer=answer)


def _sign_in_first(config, values):
    """Sign in, then back to the link: inside DingTalk's client by 免登 (the client hands out the code, nothing to
    type), in any other browser on the login page. A session that timed out ends first, as on every other page."""
    if current_user.is_authenticated:
        logout_user()
        session.clear()
    link = url_for("chat.callback", platform="dingtalk", **{key: values.get(key, "") for key in dingtalk.LINK_FIELDS})
    status = 303 if request.method == "POST" else 302
    if (dingtalk_sign_in.in_client(request.headers.get("User-Agent", ""))
            and is_configured(config, "dingtalk") and config.get("DINGTALK_CORP_ID")):
        return redirect(url_for("identity.dingtalk_in_app", next=link), status)
    return redirect(login_url(link), status)
