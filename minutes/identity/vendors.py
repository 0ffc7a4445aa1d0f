"""The vendors' contacts APIs as one entry point for the org sync: departments and people of the company.

`fetch_directory("feishu" | "dingtalk" | "wecom", config)` returns ([DirectoryDepartment], [DirectoryPerson]):
departments by the vendor's stable id with their parent's id (None under the company's root), people by the
vendor's company-scoped user id with their home department's id, whether they are still employed (`enabled`) and
whether they head a department. The sync (minutes/identity/sync.py) makes the accounts and departments from them.
"""
from minutes.identity import dingtalk, feishu, service, wecom

DIRECTORIES = {"feishu": feishu.directory, "dingtalk": dingtalk.directory, "wecom": wecom.directory}


def configured_directories(config) -> list[str]:
    """The vendors whose settings are given (their sign-in settings are the contacts API's too)."""
    return [name for name in DIRECTORIES if service.is_configured(config, name)]


def fetch_directory(provider: str, config) -> tuple[list[service.DirectoryDepartment], list[service.DirectoryPerson]]:
    """Read the company's org chart from the vendor's contacts API (raises ProviderUnavailable when it cannot)."""
    return DIRECTORIES[provider](config)
