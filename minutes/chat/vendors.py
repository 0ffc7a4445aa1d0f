"""The chat platforms by name: each module sends a card (`send(config, subject, card, token)`)."""
from minutes.chat import dingtalk, feishu, wecom

MODULES = {"feishu": feishu, "dingtalk": dingtalk, "wecom": wecom}
