"""Admin pages for accounts: list, create, edit, disable, reset password."""
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from minutes.extensions import db
from minutes.people.models import Department, User
from minutes.people.service import get_department, user_by_username


def count_users():
    return db.session.scalar(select(func.count()).select_from(User))


def new_user_form(**overrides):
    dept = get_department("客服部", create=True)
    db.session.commit()
    data = {"username": "zhaomin", "name": "赵敏", "department_id": str(dept.id), "title": "客服部经理",
            "email": "zhaomin@example.com", "password": "chushi-2026", "is_department_head": "1"}
    data.update(overrides)
    return data


def test_users_page_groups_accounts_by_department(client, admin, make_user):
    make_user("zhaomin", "赵敏", dept="客服部")
    make_user("zhangwei", "张伟", dept="产品部")
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'class="admin-tabs"' in page
    listing = page[page.index('id="user-list"'):]
    groups = [listing.index(f'scope="rowgroup">{name}') for name in ("人力资源部", "客服部", "产品部")]
    assert groups == sorted(groups)
    assert groups[1] < listing.index("赵敏") < groups[2] < listing.index("张伟")


def test_users_filter_by_department_returns_only_its_members_as_fragment(client, admin, make_user):
    make_user("zhaomin", "赵敏", dept="客服部")
    make_user("zhangwei", "张伟", dept="产品部")
    dept = get_department("产品部")
    response = client.get(f"/admin/users?department={dept.id}", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="user-list">')
    assert "张伟" in html and "赵敏" not in html


def test_users_search_finds_by_name_and_username(client, admin, make_user):
    make_user("zhaomin", "赵敏", dept="客服部")
    make_user("zhangwei", "张伟", dept="产品部")
    assert "赵敏" in client.get("/admin/users?q=赵").get_data(as_text=True)
    html = client.get("/admin/users?q=zhangw").get_data(as_text=True)
    assert "张伟" in html and "赵敏" not in html


def test_users_filter_by_status_shows_disabled_accounts(client, admin, make_user):
    make_user("zhaomin", "赵敏", dept="客服部")
    gone = make_user("olduser", "老员工", dept="客服部")
    gone.is_enabled = False
    db.session.commit()
    html = client.get("/admin/users?status=disabled").get_data(as_text=True)
    assert "老员工" in html and "赵敏" not in html and "已停用" in html


def test_admin_creates_user_who_can_log_in(client, admin, app):
    response = client.post("/admin/users/new", data=new_user_form())
    assert response.status_code == 303
    user = user_by_username("zhaomin")
    assert (user.name, user.department.name, user.title, user.email) == ("赵敏", "客服部", "客服部经理",
                                                                          "zhaomin@example.com")
    assert user.is_department_head and not user.is_admin and user.is_enabled
    other = app.test_client()
    assert other.post("/login", data={"username": "zhaomin", "password": "chushi-2026"}).status_code == 302


def test_create_user_with_empty_name_keeps_input_and_saves_nothing(client, admin):
    before = count_users()
    response = client.post("/admin/users/new", data=new_user_form(name="  ", title="这个职位要保留"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写姓名" in html
    assert 'value="zhaomin"' in html and 'value="这个职位要保留"' in html and 'value="zhaomin@example.com"' in html
    assert count_users() == before


def test_create_user_with_duplicate_username_is_refused(client, admin, make_user):
    make_user("zhaomin", "赵敏", dept="客服部")
    before = count_users()
    response = client.post("/admin/users/new", data=new_user_form(name="赵敏二号"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "用户名“zhaomin”已被使用" in html and 'value="赵敏二号"' in html
    assert count_users() == before


def test_create_user_with_bad_email_is_refused(client, admin):
    before = count_users()
    response = client.post("/admin/users/new", data=new_user_form(email="zhaomin-at-example"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "邮箱“zhaomin-at-example”格式不正确" in html and 'value="赵敏"' in html
    assert count_users() == before


def test_create_user_reports_every_bad_field_at_once(client, admin):
    response = client.post("/admin/users/new", data=new_user_form(username="", name="", department_id="",
                                                                  password="short"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("请填写用户名", "请填写姓名", "请选择部门", "密码至少8位"):
        assert message in html


def test_create_user_keeps_checked_boxes_after_error(client, admin):
    response = client.post("/admin/users/new", data=new_user_form(name="", is_admin="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'name="is_admin" value="1" checked' in html
    assert 'name="is_department_head" value="1" checked' in html


def test_admin_edits_name_email_department_title_and_roles(client, admin, make_user):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    product = get_department("产品部", create=True)
    db.session.commit()
    response = client.post(f"/admin/users/{user.id}", data={
        "name": "赵敏敏", "email": "zm@example.com", "department_id": str(product.id), "title": "产品经理",
        "is_admin": "1", "is_department_head": "1", "is_enabled": "1"})
    assert response.status_code == 303
    user = db.session.get(User, user.id)
    assert (user.name, user.email, user.department.name, user.title) == ("赵敏敏", "zm@example.com", "产品部", "产品经理")
    assert user.is_admin and user.is_department_head and user.is_enabled
    assert [h.username for h in db.session.get(Department, product.id).heads] == ["zhaomin"]


def test_edit_with_empty_name_keeps_input_and_saves_nothing(client, admin, make_user):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    response = client.post(f"/admin/users/{user.id}", data={
        "name": "", "email": "new@example.com", "department_id": str(user.department_id), "title": "新职位",
        "is_enabled": "1"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写姓名" in html and 'value="new@example.com"' in html and 'value="新职位"' in html
    user = db.session.get(User, user.id)
    assert (user.name, user.email, user.title) == ("赵敏", "zhaomin@example.com", None)


def test_edit_with_bad_email_saves_nothing(client, admin, make_user):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    response = client.post(f"/admin/users/{user.id}", data={
        "name": "赵敏敏", "email": "bad@", "department_id": str(user.department_id), "is_enabled": "1"})
    assert response.status_code == 422
    assert "邮箱“bad@”格式不正确" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).name == "赵敏"


def test_edit_with_unknown_department_is_refused(client, admin, make_user):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    response = client.post(f"/admin/users/{user.id}", data={
        "name": "赵敏", "email": "", "department_id": "9999", "is_enabled": "1"})
    assert response.status_code == 422
    assert "所选部门不存在" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).department.name == "客服部"


def test_disabling_user_ends_their_session(client, admin, make_user, client_for):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    their_browser = client_for(user)
    assert their_browser.get("/").status_code == 200
    response = client.post(f"/admin/users/{user.id}", data={
        "name": "赵敏", "email": "zhaomin@example.com", "department_id": str(user.department_id)})
    assert response.status_code == 303
    assert db.session.get(User, user.id).is_enabled is False
    after = their_browser.get("/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")


def test_disabled_user_cannot_log_in_until_enabled_again(client, admin, make_user, app):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    form = {"name": "赵敏", "email": "zhaomin@example.com", "department_id": str(user.department_id)}
    client.post(f"/admin/users/{user.id}", data=form)
    login = {"username": "zhaomin", "password": "correct-horse-42"}
    assert app.test_client().post("/login", data=login).status_code == 400
    client.post(f"/admin/users/{user.id}", data=dict(form, is_enabled="1"))
    assert app.test_client().post("/login", data=login).status_code == 302


def test_admin_cannot_disable_or_demote_self(client, admin):
    response = client.post(f"/admin/users/{admin.id}", data={
        "name": "系统管理员", "email": "", "department_id": str(admin.department_id)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "不能取消自己的管理员权限" in html and "不能停用自己的账号" in html
    me = db.session.get(User, admin.id)
    assert me.is_admin and me.is_enabled
    assert client.get("/admin/users").status_code == 200


def test_reset_password_sets_new_password_and_ends_old_sessions(client, admin, make_user, client_for, app):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    their_browser = client_for(user)
    response = client.post(f"/admin/users/{user.id}/password", data={"password": "xin-mima-2026"})
    assert response.status_code == 303
    assert check_password_hash(db.session.get(User, user.id).password_hash, "xin-mima-2026")
    assert their_browser.get("/").status_code == 302
    assert app.test_client().post("/login", data={"username": "zhaomin", "password": "xin-mima-2026"}).status_code == 302


def test_reset_password_too_short_keeps_input_and_changes_nothing(client, admin, make_user):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    old_hash, old_version = user.password_hash, user.session_version
    response = client.post(f"/admin/users/{user.id}/password", data={"password": "abc12"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "密码至少8位" in html and 'value="abc12"' in html
    user = db.session.get(User, user.id)
    assert (user.password_hash, user.session_version) == (old_hash, old_version)


def test_reset_own_password_is_sent_to_profile_page(client, admin):
    response = client.post(f"/admin/users/{admin.id}/password", data={"password": "new-password-1"})
    assert response.status_code == 422
    assert "个人设置" in response.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 200


def test_edit_page_of_unknown_user_is_404(client, admin):
    assert client.get("/admin/users/9999").status_code == 404


def test_every_admin_page_shows_the_admin_tabs_with_its_own_tab_active(client, admin):
    tabs = {"/admin/users": "人员", "/admin/users/new": "人员", f"/admin/users/{admin.id}": "人员",
            "/admin/users/import": "批量导入", "/admin/departments": "部门", "/admin/calendar": "工作日历",
            "/admin/outbox": "消息发送"}
    for url, active in tabs.items():
        html = client.get(url).get_data(as_text=True)
        nav = html[html.index('class="admin-tabs"'):html.index("</nav>", html.index('class="admin-tabs"'))]
        for href in ("/admin/users", "/admin/users/import", "/admin/departments", "/admin/calendar", "/admin/outbox",
                     "/admin/audit"):
            assert f'href="{href}"' in nav, (url, href)
        assert f'class="active">{active}</a>' in nav, url


def test_users_filter_with_unknown_department_shows_nobody(client, admin):
    for value in ("9999", "99999999999999999999", "abc"):
        response = client.get(f"/admin/users?department={value}")
        assert response.status_code == 200
        assert "没有符合条件的账号" in response.get_data(as_text=True)


def test_users_search_treats_wildcards_literally(client, admin, make_user):
    make_user("zhao_min", "赵敏", dept="客服部")
    make_user("zhaoxmin", "赵小敏", dept="客服部")
    html = client.get("/admin/users?q=zhao_").get_data(as_text=True)
    assert "zhao_min" in html and "zhaoxmin" not in html
    assert "没有符合条件的账号" in client.get("/admin/users?q=%25").get_data(as_text=True)
