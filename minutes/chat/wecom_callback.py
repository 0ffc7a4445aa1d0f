"""What the WeCom callback (企业微信 接收消息) does with what it was sent, once verified and decrypted.

- template_card_event on a button card: 进行中 / 已完成 / 确认无误 carry out the press and relabel the buttons
  with the result (passive update_button). 延期 / 需支持 turn the card into a select list to choose from
  (update_template_card with the press's response_code, see minutes/chat/wecom.py); 提出修改意见 relabels the
  buttons 请回复修改意见, keeps the press's response_code and waits for the person's next text message.
- template_card_event on such a select card: the option chosen is the press's value (a day, a department),
  carried out like the web page, and the card shows the result (update_template_card with the submit's
  response_code); refused (a day off, a forged option) → the list again with the reason.
- a text message (MsgType text): the comment of the person's card that waits for one (minutes.chat.answers
  .comment_reply); the answer is a passive text message and the card shows the result.

Each callback is taken once (`answers.take_event`): a button or list by its signed timestamp, nonce and
signature, a message by its MsgId (WeCom sends the same MsgId again when it retries). A DomainError (not the
card's person, an unknown card, a replay) is left to the view, which answers with its status.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext

from minutes.chat import answers, wecom
from minutes.chat.models import ChatCard
from minutes.chat.service import CardRefused
from minutes.extensions import db
from minutes.identity.service import ProviderUnavailable

PLATFORM = "wecom"


def handle(config, args, event: dict) -> str:
    """The passive reply (encrypted XML) to a verified callback, or "" for none."""
    if event.get("MsgType") == "text":
        return _message(config, event)
    if event.get("Event") != "template_card_event":
        return ""  # another message or event: nothing to do
    key, operator, token, choice, value = wecom.press_of(args, event)
    answers.take_event(PLATFORM, key)
    code = event.get("ResponseCode", "")
    submitted = event.get("CardType") == "multiple_interaction"
    if choice in wecom.ASKING and not submitted:
        return _ask(config, operator, token, choice, code)
    card, answer = answers.press(PLATFORM, operator, token, choice, value)
    if submitted and answer.asks_again:  # refused: the list again, saying why
        _card, again = answers.ask(PLATFORM, operator, token, choice)
        if again.ok:
            again.card["result"] = answer.message
            return "" if _update(config, card, code, again.card) else wecom.reply(config, operator, answer.message)
    if submitted and answer.ok and _update(config, card, code, answer.card):
        return ""  # the whole card shows the result: a relabelled button holds only 20 characters
    text = answer.card.get("result") if answer.ok else answer.message
    return wecom.reply(config, operator, text or answer.message)


def _ask(config, operator: str, token: str, choice: str, code: str) -> str:
    card, answer = answers.ask(PLATFORM, operator, token, choice)
    if not answer.ok:
        return wecom.reply(config, operator, answer.message)
    if choice == "change":
        card.response_code = code[:200] or None  # to show the result once the comment has come
        db.session.flush()
        return wecom.reply(config, operator, gettext("请回复修改意见"))
    if len(answer.card["ask"]["options"]) > wecom.OPTIONS:  # WeCom's list holds 10: a longer one is not cut short
        return wecom.reply(config, operator, gettext("请在网页上操作"))
    if _update(config, card, code, answer.card):
        return ""
    return wecom.reply(config, operator, gettext("请在网页上操作"))


def _update(config, card: ChatCard, code: str, content: dict) -> bool:
    """Replace the pressed card with `content`; False when WeCom refused (the press itself stands)."""
    if not code:
        return False
    try:
        wecom.update_card(config, card.subject, code, content, card.token)
    except (CardRefused, ProviderUnavailable) as exc:  # WeCom refused or is unreachable: the answer is kept
        current_app.logger.warning("wecom card %s not updated: %s", card.id, exc)
        return False
    return True


def _message(config, event: dict) -> str:
    operator = event.get("FromUserName", "")
    answers.take_event(PLATFORM, "msg:" + event.get("MsgId", ""))
    found = answers.comment_reply(PLATFORM, operator, event.get("Content", ""))
    if found is None:
        return wecom.text_reply(config, operator, gettext(
            "没有等待您回复的纪要卡片。如需提出修改意见，请先点纪要卡片上的“提出修改意见”，再回复一条消息。"))
    card, answer = found
    if answer.ok and card.response_code:
        _update(config, card, card.response_code, answer.card)
        card.response_code = None  # one use
        db.session.flush()
    return wecom.text_reply(config, operator, answer.message)
