"""Only administrators reach the admin pages; everyone else gets 403, anonymous visitors the login page."""
import pytest
from sqlalchemy import func, select

from minutes.calendar.models import CalendarOverride
from minutes.extensions import db
from minutes.people.models import Department, User

GET_URLS = ["/admin/users", "/admin/users/new", "/admin/users/{user}", "/admin/users/import",
            "/admin/users/import/sample.csv", "/admin/departments", "/admin/calendar", "/admin/outbox"]
POST_URLS = [
    ("/admin/users/new", {"username": "mole", "name": "内鬼", "department_id": "{dept}", "password": "12345678"}),
    ("/admin/users/{user}", {"name": "改名", "department_id": "{dept}", "is_admin": "1", "is_enabled": "1"}),
    ("/admin/users/{user}/password", {"password": "hacked-123"}),
    ("/admin/users/import", {"text": "部门,姓名,用户名\n客服部,内鬼,mole", "password": "12345678"}),
    ("/admin/departments", {"name": "影子部门"}),
    ("/admin/departments/{dept}/rename", {"name": "影子部门"}),
    ("/admin/calendar", {"day": "2026-06-15", "kind": "off", "note": "偷偷放假"}),
    ("/admin/calendar/1/delete", {}),
    ("/admin/outbox/1/retry", {}),
]


@pytest.fixture
def employee(login_as, make_user):
    return login_as(make_user("zhaomin", "赵敏", dept="客服部"))


def fill(text, user):
    return text.replace("{user}", str(user.id)).replace("{dept}", str(user.department_id))


@pytest.mark.parametrize("url", GET_URLS)
def test_non_admin_gets_403_on_every_admin_page(client, employee, url):
    response = client.get(fill(url, employee))
    assert response.status_code == 403
    assert "只有系统管理员可以执行此操作" in response.get_data(as_text=True)


@pytest.mark.parametrize("url,data", POST_URLS)
def test_non_admin_gets_403_on_every_admin_action_and_nothing_changes(client, employee, url, data):
    snapshot = (db.session.scalar(select(func.count()).select_from(User)),
                sorted(db.session.scalars(select(Department.name))),
                db.session.scalar(select(func.count()).select_from(CalendarOverride)))
    response = client.post(fill(url, employee), data={k: fill(v, employee) for k, v in data.items()})
    assert response.status_code == 403
    me = db.session.get(User, employee.id)
    assert me.name == "赵敏" and not me.is_admin and me.session_version == 1
    assert snapshot == (db.session.scalar(select(func.count()).select_from(User)),
                        sorted(db.session.scalars(select(Department.name))),
                        db.session.scalar(select(func.count()).select_from(CalendarOverride)))


def test_non_admin_sees_no_admin_link(client, employee):
    assert "/admin/" not in client.get("/").get_data(as_text=True)


def test_anonymous_visitor_is_sent_to_login(client, app):
    response = client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_htmx_request_from_non_admin_gets_403_fragment(client, employee):
    response = client.get("/admin/users?q=x", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.get_data(as_text=True).startswith('<div class="alert error"')
