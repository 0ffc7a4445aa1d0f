"""API operations on the caller's own API tokens."""
from flask import g, jsonify
from flask_babel import lazy_gettext

from minutes.api import schemas
from minutes.api import service as tokens
from minutes.api.core import me, operation


@operation("/tokens", "POST", lazy_gettext("为当前用户创建新令牌（明文只返回这一次）；须登录的浏览器会话（Cookie 与 X-CSRFToken），"
           "用 API 令牌调用时返回 403"), body=schemas.TOKEN_CREATE,
           response={"type": "object", "required": ["id", "token", "read_only"], "properties": {
               "id": {"type": "integer"}, "name": {"type": "string"}, "read_only": {"type": "boolean"},
               "token": {"type": "string"}}},
           status=201, tag="people", security="session")
def create_token(data):
    token, plaintext = tokens.create_token(me(), data["name"], data.get("read_only", False), via_token=g.api_token)
    return jsonify(id=token.id, name=token.name, read_only=token.read_only, token=plaintext), 201


@operation("/tokens/<int:token_id>", "DELETE", lazy_gettext("吊销令牌"),
           response={"type": "object", "properties": {"revoked": {"type": "integer"}}}, tag="people")
def revoke_token(token_id):
    tokens.revoke_token(me(), token_id)
    return jsonify(revoked=token_id)
