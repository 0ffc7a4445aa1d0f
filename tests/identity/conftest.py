"""A real slapd for the identity tests: one server per test process, reloaded from LDIF for each test."""
import os

import pytest

from tests.identity.slapd import Slapd, missing

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def _slapd():
    problem = missing()
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true 但无法运行 slapd：{problem}", pytrace=False)
        pytest.skip(f"跳过 LDAP 测试（CI=true 时必须运行）：{problem}")
    server = Slapd()
    yield server
    server.close()


@pytest.fixture
def directory(_slapd, app):
    """The test company's directory (tests/identity/directory.ldif), freshly loaded, and the app pointed at it."""
    _slapd.load()
    app.config.update(_slapd.config())
    return _slapd
