"""Admin page for departments: list with counts and heads, add, rename."""
from sqlalchemy import func, select

from minutes.extensions import db
from minutes.people.models import Department
from minutes.people.service import get_department

HX = {"HX-Request": "true"}


def department_names():
    return set(db.session.scalars(select(Department.name)))


def test_departments_list_shows_member_counts_and_heads(client, admin, make_user):
    head = make_user("zhaomin", "赵敏", dept="客服部", title="客服部经理")
    head.is_department_head = True
    make_user("sunli", "孙丽", dept="客服部")
    gone = make_user("olduser", "老员工", dept="客服部")
    gone.is_enabled = False
    db.session.commit()
    html = client.get("/admin/departments").get_data(as_text=True)
    row = html[html.index("<strong>客服部</strong>"):]
    row = row[:row.index("</tr>")]
    assert '<td class="num">2' in row and "另有 1 人已停用" in row
    assert "赵敏" in row and "孙丽" not in row
    assert "未设置" in html  # 人力资源部 has no head


def test_admin_adds_department(client, admin):
    response = client.post("/admin/departments", data={"name": " 供应链管理部 "}, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card" id="departments">')
    assert "已添加部门“供应链管理部”" in html
    assert "供应链管理部" in department_names()


def test_add_department_without_htmx_redirects_back_to_the_list(client, admin):
    response = client.post("/admin/departments", data={"name": "法务部"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/departments")
    assert "法务部" in department_names()


def test_add_department_with_empty_name_is_refused(client, admin):
    before = department_names()
    response = client.post("/admin/departments", data={"name": "   "}, headers=HX)
    assert response.status_code == 422
    assert "请填写部门名称" in response.get_data(as_text=True)
    assert department_names() == before


def test_add_duplicate_department_keeps_typed_name_and_saves_nothing(client, admin):
    before = db.session.scalar(select(func.count()).select_from(Department))
    response = client.post("/admin/departments", data={"name": "人力资源部"}, headers=HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "部门“人力资源部”已存在" in html and 'value="人力资源部"' in html
    assert db.session.scalar(select(func.count()).select_from(Department)) == before


def test_too_long_department_name_is_refused(client, admin):
    response = client.post("/admin/departments", data={"name": "部" * 81}, headers=HX)
    assert response.status_code == 422
    assert "部门名称不超过80个字" in response.get_data(as_text=True)


def test_rename_department_keeps_its_members(client, admin, make_user):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    dept = get_department("客服部")
    response = client.post(f"/admin/departments/{dept.id}/rename", data={"name": "客户服务部"}, headers=HX)
    assert response.status_code == 200
    assert "已将部门“客服部”改名为“客户服务部”" in response.get_data(as_text=True)
    assert db.session.get(Department, dept.id).name == "客户服务部"
    assert user.department.name == "客户服务部"


def test_rename_to_an_existing_name_is_refused_and_keeps_typed_name(client, admin, make_user):
    make_user("zhaomin", "赵敏", dept="客服部")
    dept = get_department("客服部")
    response = client.post(f"/admin/departments/{dept.id}/rename", data={"name": "人力资源部"}, headers=HX)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "部门“人力资源部”已存在" in html
    assert f'id="rename-{dept.id}" name="name" maxlength="80" value="人力资源部"' in html
    assert db.session.get(Department, dept.id).name == "客服部"


def test_rename_to_empty_is_refused(client, admin):
    dept = get_department("人力资源部")
    response = client.post(f"/admin/departments/{dept.id}/rename", data={"name": ""}, headers=HX)
    assert response.status_code == 422
    assert "请填写部门名称" in response.get_data(as_text=True)
    assert db.session.get(Department, dept.id).name == "人力资源部"


def test_rename_unknown_department_is_404(client, admin):
    assert client.post("/admin/departments/9999/rename", data={"name": "X部"}).status_code == 404
