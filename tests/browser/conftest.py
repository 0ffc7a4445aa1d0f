"""Browser fixtures: the real app on a threaded local server, Debian's Chromium through Playwright.

    live_server            session: the app served on http://127.0.0.1:<port> (.url, .app, .smtp, .db_path)
    browser                session: headless /usr/bin/chromium (never downloaded)
    users(username, ...)   create a committed account in the live server's database
    new_page(user=None, viewport=(1440, 900))
                           a page in a NEW browser context (own cookies): call it twice for two users
    shot(page, name)       save tests/browser/shots/<name>.png (full page by default)

Every test starts from an empty database and an empty SMTP sink.
"""
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PASSWORD, _wipe

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--lang=zh-CN", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
#: Upper bound for every browser action and assertion, so a failure never hangs a run.
ACTION_TIMEOUT_MS = 10_000
EXPECT_TIMEOUT_MS = 5_000
BROWSER_DIR = Path(__file__).parent
SHOTS_DIR = BROWSER_DIR / "shots"
ROOT = BROWSER_DIR.parent.parent


def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/browser as `browser`, even one whose module forgot pytestmark."""
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def _require_chromium():
    """Fail (CI) or skip (elsewhere) with a clear reason when the browser cannot run."""
    problems = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"找不到 {CHROMIUM}：请安装 Debian 软件包 chromium（apt-get install chromium）")
    if not (ROOT / "static" / "vendor" / "htmx.min.js").is_file():
        problems.append("static/vendor/htmx.min.js 不存在：请先运行 make assets")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("未安装 Python Playwright：请运行 make setup（不要运行 playwright install）")
    if problems:
        message = "浏览器测试无法运行：" + "；".join(problems)
        if IN_CI:
            pytest.fail(message + "（CI=true 时浏览器测试必须运行）", pytrace=False)
        pytest.skip(message + "（CI=true 时会失败）")


# --- the server ------------------------------------------------------------------------------

@dataclass
class LiveServer:
    url: str
    app: object
    smtp: object
    db_path: Path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, smtp_server):
    """The real app with CSRF on, on its own SQLite file, served by a threaded werkzeug server."""
    _require_chromium()
    from werkzeug.serving import make_server

    from minutes import create_app
    from minutes.extensions import db

    base = tmp_path_factory.mktemp("live")
    db_path = base / "live.sqlite3"
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "browser-test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "WTF_CSRF_ENABLED": True,
        "OUTBOX_DELIVER_ON_COMMIT": True,
        "UPLOAD_FOLDER": str(base / "uploads"),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "SMTP_STARTTLS": False,
        "SMTP_USER": None,
        "SMTP_PASSWORD": None,
        "BASE_URL": "http://minutes.test",
        "MAX_UPLOAD_BYTES": 1024 * 1024,
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",  # as tests/conftest.py: production's scrypt at 1/32 the cost
    })
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = True  # long-lived requests (SSE) must not keep the process alive
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="live-server", daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, smtp=smtp_server, db_path=db_path)
    try:
        yield live
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_data(live_server):
    """Start every browser test from an empty database and an empty mailbox."""
    from minutes.core import timefmt

    timefmt.freeze(None)
    _wipe(live_server.app)
    live_server.smtp.clear()
    yield


# --- people ----------------------------------------------------------------------------------

@dataclass
class UserInfo:
    """A plain copy of a created account (no ORM object leaks out of the app context)."""

    id: int
    username: str
    name: str
    department: str
    department_id: int
    email: str | None
    password: str = PASSWORD


@pytest.fixture
def users(live_server):
    """Create a committed account: users("wangli", "王丽", dept="产品部", head=True, title="产品总监")."""
    from minutes.extensions import db
    from minutes.people.service import create_user

    def factory(username, name=None, dept="产品部", admin=False, head=False, title=None, email=True):
        with live_server.app.app_context():
            user = create_user(username, name or username, dept, PASSWORD,
                               email=(f"{username}@example.com" if email is True else (email or None)),
                               is_admin=admin, title=title, is_department_head=head)
            db.session.commit()
            return UserInfo(user.id, user.username, user.name, user.department.name, user.department_id, user.email)

    return factory


# --- the browser -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _playwright():
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(_playwright):
    """Debian's headless Chromium; Playwright never downloads a browser here."""
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                          timeout=30_000)
    yield browser
    browser.close()


def login(page, base_url, user, password=PASSWORD):
    """Log in through the real /login form (CSRF token included) and land on the dashboard."""
    username = user if isinstance(user, str) else user.username
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("form.login-card button[type=submit]")
    if "/login" in page.url:
        alert = page.locator(".alert.error")
        raise AssertionError(f"login as {username} failed: "
                             f"{alert.inner_text() if alert.count() else page.url}")
    return page


@pytest.fixture
def new_page(browser, live_server):
    """Open a page in a new browser context: new_page(user, viewport=(w, h), **context_options) (user_agent=...);
    one context per call.

    Two calls give two independent sessions side by side (e.g. recorder and attendee). The page has
    `.base_url` and `.errors` (uncaught JS exceptions; any one fails the test at teardown).
    """
    contexts = []

    def open_page(user=None, viewport=(1440, 900), **context_options):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN",
                                      timezone_id="Asia/Shanghai", base_url=live_server.url, **context_options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.base_url = live_server.url
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        if user is not None:
            login(page, live_server.url, user)
        return page

    yield open_page
    errors = [e for ctx in contexts for p in ctx.pages for e in getattr(p, "errors", [])]
    for context in contexts:
        try:
            context.close()
        except Exception:  # a context may already be gone if the browser crashed
            pass
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture(scope="session")
def _shots_dir():
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SHOTS_DIR


@pytest.fixture
def shot(_shots_dir):
    """Save a screenshot: shot(page, "meeting-1440") → tests/browser/shots/meeting-1440.png.

    Pass a locator instead of a page to capture one element; full_page=False for the viewport only.
    """

    def take(target, name, full_page=True):
        path = _shots_dir / f"{name}.png"
        from playwright.sync_api import Page

        if isinstance(target, Page):
            target.evaluate("window.scrollTo(0, 0)")  # else a sticky header lands mid-image
            target.screenshot(path=str(path), full_page=full_page, animations="disabled")
        else:  # a Locator
            target.screenshot(path=str(path), animations="disabled")
        return path

    return take


def wait_for_htmx(page, timeout=ACTION_TIMEOUT_MS):
    """Wait until the page has loaded (htmx wires its elements up on DOMContentLoaded: typing into a textarea
    before that fires an input event no one listens to) and no htmx request is in flight (htmx marks requesting
    elements with .htmx-request)."""
    page.wait_for_function("() => document.readyState === 'complete'"
                           " && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')",
                           timeout=timeout)


def click_then_reload(page, target, url):
    """Click something whose answer loads the page at the same address again (HX-Redirect after starting a
    meeting, a form that posts back to its own page): wait for that load. wait_for_url returns at once here,
    because the address already matches, and the next step would then run in a page being replaced."""
    with page.expect_navigation(url=url, wait_until="load"):
        target.click()
