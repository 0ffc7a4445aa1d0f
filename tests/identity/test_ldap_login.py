"""Signing in through LDAP against a real slapd: bind, mapping, group and disabled filters, throttle."""
from sqlalchemy import select

from minutes.extensions import db
from minutes.identity.models import ExternalIdentity
from minutes.people.models import LoginAddress, LoginCounter, User
from tests.conftest import PASSWORD


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_directory_user_signs_in_and_gets_an_account_with_mapped_attributes(client, directory):
    response = _login(client, "zhangwei", "zw-pass-1")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    user = db.session.scalar(select(User).filter_by(username="zhangwei"))
    assert (user.name, user.email, user.title, user.department.name) == ("张伟", "zhangwei@example.com", "高级工程师", "研发部")
    assert not user.is_department_head
    ident = db.session.scalar(select(ExternalIdentity).filter_by(user_id=user.id))
    assert ident.provider == "ldap" and len(ident.subject) == 36  # entryUUID, not the name
    assert client.get("/").status_code == 200
    assert _login(client, "zhangwei", "wrong").status_code == 302  # already signed in: to the dashboard
    # the throttle remembered the address as the user's (after the request committed the new account)
    assert db.session.scalar(select(LoginAddress.user_id).filter_by(user_id=user.id)) == user.id


def test_department_head_comes_from_the_heads_group(client, directory):
    assert _login(client, "lina", "ln-pass-1").status_code == 302
    lina = db.session.scalar(select(User).filter_by(username="lina"))
    assert lina.is_department_head and lina.department.name == "产品部"


def test_wrong_password_is_the_same_answer_as_an_unknown_name_and_is_counted(client, directory):
    wrong = _login(client, "zhangwei", "not-it")
    unknown = _login(client, "nobody", "not-it")
    assert wrong.status_code == unknown.status_code == 400
    assert "用户名或密码错误" in wrong.get_data(as_text=True)
    assert "用户名或密码错误" in unknown.get_data(as_text=True)
    assert db.session.scalar(select(User).filter_by(username="zhangwei")) is None
    counter = db.session.get(LoginCounter, "account:zhangwei")
    assert counter is not None and counter.failures == 1


def test_empty_password_is_not_an_anonymous_bind(client, directory):
    response = _login(client, "zhangwei", "")
    assert response.status_code == 400
    assert db.session.scalar(select(User).filter_by(username="zhangwei")) is None


def test_throttle_stops_a_guesser_before_the_directory_is_asked(client, directory, app):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 3
    for _ in range(3):
        assert _login(client, "zhangwei", "guess").status_code == 400
    response = _login(client, "zhangwei", "zw-pass-1")  # even the right password waits now
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)


def test_account_disabled_in_the_directory_is_refused_with_a_clear_message(client, directory):
    response = _login(client, "liqiang", "lq-pass-1")
    assert response.status_code == 403
    assert "已在公司目录中停用" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).filter_by(username="liqiang")) is None
    # a wrong password for the disabled account says nothing about its state
    assert "用户名或密码错误" in _login(client, "liqiang", "nope").get_data(as_text=True)


def test_only_members_of_the_group_may_sign_in(client, directory, app):
    response = _login(client, "outsider", "os-pass-1")
    assert response.status_code == 403
    assert "不在允许登录的用户组中" in response.get_data(as_text=True)
    app.config["LDAP_GROUP_DN"] = ""
    assert _login(client, "outsider", "os-pass-1").status_code == 302


def test_search_base_limits_who_may_sign_in(client, directory, app):
    app.config["LDAP_USER_BASE"] = "ou=产品部,ou=people,dc=example,dc=com"
    assert _login(client, "zhangwei", "zw-pass-1").status_code == 400
    assert _login(client, "lina", "ln-pass-1").status_code == 302


def test_bind_with_a_dn_template_without_a_service_account(client, directory, app):
    app.config.update(LDAP_BIND_DN="", LDAP_BIND_PASSWORD="", LDAP_GROUP_DN="", LDAP_HEAD_GROUP_DN="",
                      LDAP_USER_DN_TEMPLATE="uid={username},ou=市场部,ou=people,dc=example,dc=com")
    assert _login(client, "zhaomin", "wrong").status_code == 400
    assert _login(client, "zhaomin", "zm-pass-1").status_code == 302
    assert db.session.scalar(select(User).filter_by(username="zhaomin")).department.name == "市场部"


def test_filter_characters_in_the_username_are_escaped(client, directory):
    for name in ("*", "zhang*", "zhangwei)(uid=*", "lina)(|(uid=*"):
        response = _login(client, name, "zw-pass-1")
        assert response.status_code == 400, name
    assert db.session.scalar(select(User).where(User.username != "")) is None


def test_second_sign_in_keeps_one_account_and_follows_the_directory(client, directory):
    assert _login(client, "zhangwei", "zw-pass-1").status_code == 302
    client.post("/logout")
    admin = directory.admin()
    admin.modify("uid=zhangwei,ou=研发部,ou=people,dc=example,dc=com", {"title": [("MODIFY_REPLACE", ["架构师"])]})
    assert _login(client, "zhangwei", "zw-pass-1").status_code == 302
    users = db.session.scalars(select(User).filter_by(username="zhangwei")).all()
    assert len(users) == 1 and users[0].title == "架构师"


def test_existing_local_account_is_linked_not_duplicated(client, directory, make_user):
    local = make_user("zhangwei", "张伟", dept="研发部")
    assert _login(client, "zhangwei", "zw-pass-1").status_code == 302
    assert db.session.scalar(select(ExternalIdentity.user_id).filter_by(provider="ldap")) == local.id


def test_unreachable_directory_says_so_and_local_admin_still_signs_in(client, directory, app, make_user):
    admin = make_user("admin", "管理员", admin=True)
    directory.stop()
    response = _login(client, "zhangwei", "zw-pass-1")
    assert response.status_code == 503
    assert "无法连接公司目录服务" in response.get_data(as_text=True)
    assert _login(client, admin.username, PASSWORD).status_code == 302


def test_local_login_admins_turns_local_passwords_off_for_everyone_else(client, directory, app, make_user):
    app.config["LOCAL_LOGIN"] = "admins"
    make_user("admin", "管理员", admin=True)
    make_user("wangwu", "王五")
    response = _login(client, "wangwu", PASSWORD)
    assert response.status_code == 400  # not a local password any more; the directory does not know wangwu
    assert _login(client, "admin", PASSWORD).status_code == 302


def test_local_login_admins_without_a_directory_explains_itself(client, app, make_user):
    app.config.update(LOCAL_LOGIN="admins", LDAP_URL="")
    make_user("wangwu", "王五")
    response = _login(client, "wangwu", PASSWORD)
    assert response.status_code == 403
    assert "已关闭本地密码登录" in response.get_data(as_text=True)


def test_login_page_says_to_use_the_company_account_only_when_a_directory_is_configured(client, directory, app):
    assert "请使用公司统一账号" in client.get("/login").get_data(as_text=True)
    app.config["LDAP_URL"] = ""
    assert "请使用公司统一账号" not in client.get("/login").get_data(as_text=True)
