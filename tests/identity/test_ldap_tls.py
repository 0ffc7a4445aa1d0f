"""LDAPS and StartTLS against slapd with a self-signed certificate: trusted through LDAP_CA_FILE, refused without."""
import shutil

import pytest
from sqlalchemy import select

from minutes.extensions import db
from minutes.people.models import User
from tests.identity.conftest import IN_CI
from tests.identity.slapd import Slapd, missing


@pytest.fixture(scope="module")
def _tls_slapd():
    problem = missing() or (None if shutil.which("openssl") else "未安装 openssl")
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true 但无法运行 slapd：{problem}", pytrace=False)
        pytest.skip(f"跳过 LDAP TLS 测试：{problem}")
    server = Slapd(tls=True).load()
    yield server
    server.close()


@pytest.fixture
def tls_directory(_tls_slapd, app):
    app.config.update(_tls_slapd.config(LDAP_CA_FILE=_tls_slapd.ca_file, LDAP_TLS_VERIFY=True))
    return _tls_slapd


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_ldaps_with_the_company_ca_signs_in(client, tls_directory, app):
    app.config["LDAP_URL"] = tls_directory.ldaps_url
    assert _login(client, "zhangwei", "zw-pass-1").status_code == 302
    assert db.session.scalar(select(User).filter_by(username="zhangwei")) is not None


def test_start_tls_signs_in_and_never_falls_back_to_plain_text(client, tls_directory, app):
    app.config.update(LDAP_START_TLS=True, LDAP_CA_FILE=None)
    assert _login(client, "zhangwei", "zw-pass-1").status_code == 503  # certificate not trusted: no bind at all
    app.config["LDAP_CA_FILE"] = tls_directory.ca_file
    assert _login(client, "zhangwei", "zw-pass-1").status_code == 302


def test_an_untrusted_certificate_is_refused(client, tls_directory, app):
    app.config.update(LDAP_URL=tls_directory.ldaps_url, LDAP_CA_FILE=None)
    response = _login(client, "zhangwei", "zw-pass-1")
    assert response.status_code == 503
    assert "无法连接公司目录服务" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).filter_by(username="zhangwei")) is None
