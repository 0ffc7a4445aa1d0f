"""Chat-card tests: the three loopback platforms, the app pointed at one of them, people with identities there."""
import pytest

from minutes.extensions import db
from minutes.identity.models import ExternalIdentity
from tests.actions.conftest import team  # noqa: F401
from tests.chat.servers import (FEISHU_ENCRYPT_KEY, FEISHU_VERIFICATION_TOKEN, WECOM_AES_KEY, WECOM_TOKEN,
                                DingTalkChatServer, FeishuChatServer, WeComChatServer)
from tests.notify.fixtures import make_action  # noqa: F401
from tests.records.conftest import recorded  # noqa: F401


@pytest.fixture(scope="module")
def feishu_server():
    server = FeishuChatServer()
    server.members["fs_wangwei"] = {"name": "王伟"}
    server.members["fs_host"] = {"name": "赵敏"}
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wecom_server():
    server = WeComChatServer()
    server.members["WangWei"] = {"name": "王伟", "department": [1]}
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dingtalk_server():
    server = DingTalkChatServer()
    server.members["dt_wangwei"] = {"name": "王伟", "unionid": "u-wangwei"}
    server.members["dt_liuyang"] = {"name": "刘洋", "unionid": "u-liuyang"}
    yield server
    server.stop()


@pytest.fixture
def chat(app, feishu_server, wecom_server, dingtalk_server):
    """chat("feishu" | "wecom" | "dingtalk") points the app's cards at that loopback platform; returns the server."""

    def configure(platform: str):
        f, w, d = feishu_server, wecom_server, dingtalk_server
        for server in (f, w, d):
            server.reset()
        app.config.update(CHAT_PLATFORM=platform,
                          FEISHU_APP_ID=f.app_id, FEISHU_APP_SECRET=f.app_secret, FEISHU_BASE_URL=f.url,
                          FEISHU_CARD_ENCRYPT_KEY=FEISHU_ENCRYPT_KEY,
                          FEISHU_CARD_VERIFICATION_TOKEN=FEISHU_VERIFICATION_TOKEN,
                          WECOM_CORP_ID=w.corp_id, WECOM_AGENT_ID=w.agent_id, WECOM_SECRET=w.secret,
                          WECOM_BASE_URL=w.url, WECOM_CALLBACK_TOKEN=WECOM_TOKEN, WECOM_ENCODING_AES_KEY=WECOM_AES_KEY,
                          DINGTALK_CLIENT_ID=d.client_id, DINGTALK_CLIENT_SECRET=d.client_secret,
                          DINGTALK_OAPI_URL=d.url, DINGTALK_API_URL=d.url, DINGTALK_AGENT_ID=d.agent_id,
                          DINGTALK_CORP_ID=d.corp_id, DINGTALK_LOGIN_URL=d.url)
        return {"feishu": f, "wecom": w, "dingtalk": d}[platform]

    return configure


@pytest.fixture
def link_identity(app):
    """link_identity(user, "feishu", "fs_wangwei"): the person's account at the platform (as a sign-in would)."""

    def link(user, provider: str, subject: str):
        db.session.add(ExternalIdentity(user_id=user.id, provider=provider, subject=subject))
        db.session.commit()

    return link
