"""Sessions and login: rotation, real logout, throttling, timeouts, headers, redirects, CSRF."""
import re
import time

from minutes.config import Config
from minutes.people import service as people
from tests.conftest import PASSWORD


def test_saved_cookie_replayed_after_logout_is_refused(client, login_as, make_user):
    login_as(make_user("zhaomin", dept="客服部"))
    saved = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    client.post("/logout")
    client.set_cookie("session", saved)
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_password_change_ends_other_sessions(app, make_user):
    user = make_user("zhaomin", dept="客服部")
    phone, laptop = app.test_client(), app.test_client()
    for c in (phone, laptop):
        assert c.post("/login", data={"username": "zhaomin", "password": PASSWORD}).status_code == 302
    r = laptop.post("/profile", data={"current_password": PASSWORD, "new_password": "another-pass-99",
                                      "confirm_password": "another-pass-99"})
    assert r.status_code == 302
    assert laptop.get("/").status_code == 200  # the browser that changed it stays in
    assert phone.get("/").status_code == 302  # every other session ends


def test_disabled_user_session_ends(app, client, login_as, make_user):
    admin = make_user("admin", dept="人力资源部", admin=True)
    user = login_as(make_user("zhaomin", dept="客服部"))
    assert client.get("/").status_code == 200
    people.update_user(admin, user, name=user.name, email=user.email, department_id=user.department_id,
                       title=None, is_admin=False, is_enabled=False)
    from minutes.extensions import db

    db.session.commit()
    assert client.get("/").status_code == 302


def test_session_is_rotated_at_login(client, make_user):
    make_user("zhaomin", dept="客服部")
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
    client.post("/login", data={"username": "zhaomin", "password": PASSWORD})
    with client.session_transaction() as sess:
        assert "planted" not in sess


def test_login_is_throttled_per_account_without_revealing_accounts(app, client, make_user):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 3
    make_user("zhaomin", dept="客服部")
    make_user("lihua", dept="技术部")
    unknown = client.post("/login", data={"username": "nobody", "password": "x" * 10}).get_data(as_text=True)
    for _ in range(3):
        wrong = client.post("/login", data={"username": "zhaomin", "password": "wrong-password"})
        assert "用户名或密码错误" in wrong.get_data(as_text=True)
    assert "用户名或密码错误" in unknown
    locked = client.post("/login", data={"username": "zhaomin", "password": PASSWORD})
    assert locked.status_code == 429 and "尝试次数过多，请 15 分钟后再试" in locked.get_data(as_text=True)
    other = app.test_client()
    assert other.post("/login", data={"username": "lihua", "password": PASSWORD}).status_code == 302


def test_login_is_throttled_per_address(app, make_user):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 4
    make_user("zhaomin", dept="客服部")
    attacker = app.test_client()
    for i in range(4):
        attacker.post("/login", data={"username": f"guess{i}", "password": "wrong-password"})
    r = attacker.post("/login", data={"username": "zhaomin", "password": PASSWORD})
    assert r.status_code == 429 and "尝试次数过多" in r.get_data(as_text=True)


def test_unknown_and_wrong_password_take_similar_time(app, client, make_user):
    app.config["PASSWORD_HASH_METHOD"] = Config.PASSWORD_HASH_METHOD  # production's cost: the suite lowers it
    make_user("zhaomin", dept="客服部")

    def timed(username):
        start = time.perf_counter()
        client.post("/login", data={"username": username, "password": "wrong-password"})
        return time.perf_counter() - start

    timed("warmup")
    unknown = min(timed("nobody") for _ in range(2))
    known = min(timed("zhaomin") for _ in range(2))
    assert 0.5 < unknown / known < 2.0


def test_long_passwords_differing_after_72_bytes_do_not_both_verify(make_user):
    base = "密" * 30  # 90 bytes in UTF-8
    user = people.create_user("longpw", "长密码", "技术部", base + "A")
    assert people.authenticate("longpw", base + "A") is not None
    assert people.authenticate("longpw", base + "B") is None


def test_idle_session_times_out(app, client, login_as, make_user):
    login_as(make_user("zhaomin", dept="客服部"))
    with client.session_transaction() as sess:
        sess["last_seen"] = int(time.time()) - app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_absolute_session_timeout(app, client, login_as, make_user):
    login_as(make_user("zhaomin", dept="客服部"))
    with client.session_transaction() as sess:
        sess["login_at"] = int(time.time()) - app.config["SESSION_ABSOLUTE_HOURS"] * 3600 - 5
    assert client.get("/").status_code == 302


def test_session_cookie_flags(app, client, make_user):
    make_user("zhaomin", dept="客服部")
    r = client.post("/login", data={"username": "zhaomin", "password": PASSWORD})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_next_redirect_stays_on_site(client, make_user):
    make_user("zhaomin", dept="客服部")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = client.post("/login?next=" + target, data={"username": "zhaomin", "password": PASSWORD})
        assert r.headers["Location"] == "/", target
        client.post("/logout")
    r = client.post("/login?next=/meetings", data={"username": "zhaomin", "password": PASSWORD})
    assert r.headers["Location"] == "/meetings"


def test_csp_forbids_inline_scripts_and_pages_have_none(client, login_as, make_user, make_meeting):
    user = login_as(make_user("zhaomin", dept="客服部"))
    meeting = make_meeting(user)
    for url in ("/", "/meetings", f"/meetings/{meeting.id}", "/meetings/new", "/profile"):
        r = client.get(url)
        csp = r.headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
        html = r.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\son[a-z]+\s*=", html), url


def test_csrf_required_on_state_changes(app, client, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("zhaomin", dept="客服部")
    r = client.post("/login", data={"username": "zhaomin", "password": PASSWORD})
    assert r.status_code == 400 and "请刷新" in r.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"username": "zhaomin", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    r = client.post("/meetings/new", data={"topic": "x"})
    assert r.status_code == 400
    dashboard = client.get("/").get_data(as_text=True)
    header_token = re.search(r'"X-CSRFToken": "([^"]+)"', dashboard).group(1)
    r = client.post("/meetings/new", data={"topic": ""}, headers={"X-CSRFToken": header_token, "HX-Request": "true"})
    assert r.status_code == 422  # past CSRF, stopped by validation


def test_hsts_is_sent_when_the_app_is_configured_for_https_or_the_request_came_over_it(app, client):
    """HSTS: with SESSION_COOKIE_SECURE=1, on a request over HTTPS, or behind a trusted proxy that says https."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    hsts = "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers
    assert client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"] == hsts
    plain = app.wsgi_app
    app.wsgi_app = ProxyFix(plain, x_for=1, x_proto=1)  # what TRUSTED_PROXIES=1 installs
    try:
        assert client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["Strict-Transport-Security"] == hsts
        assert "Strict-Transport-Security" not in client.get("/login", headers={"X-Forwarded-Proto": "http"}).headers
    finally:
        app.wsgi_app = plain
    app.config["SESSION_COOKIE_SECURE"] = True
    assert client.get("/login").headers["Strict-Transport-Security"] == hsts
    assert client.get("/healthz").headers["Strict-Transport-Security"] == hsts
