"""The org-chart sync from a real slapd: create, rename, move, heads, deactivate, reactivate, idempotent."""
from sqlalchemy import func, select

from minutes.extensions import db
from minutes.identity import sync
from minutes.identity.models import ExternalDepartment, ExternalIdentity
from minutes.identity.service import DirectoryDepartment, DirectoryPerson, Profile
from minutes.people.models import Department, User

PEOPLE = "ou=people,dc=example,dc=com"


def _user(username):
    db.session.expire_all()
    return db.session.scalar(select(User).filter_by(username=username))


def test_first_sync_creates_departments_and_people_with_heads(directory):
    report = sync.sync_from("ldap")
    assert sorted(report.departments_created) == ["产品部", "前端组", "市场部", "研发部"]
    # the group decides who is synced (outsider is not a member); the disabled one is not created
    assert sorted(u.split("（")[0] for u in report.people_created) == ["张伟", "李娜", "王芳", "赵敏"]
    assert _user("outsider") is None and _user("liqiang") is None
    wang = _user("wangfang")
    assert wang.department.name == "前端组" and wang.title == "前端工程师" and wang.email == "wangfang@example.com"
    assert _user("zhaomin").is_department_head and not _user("zhangwei").is_department_head
    assert report.changes == 8


def test_second_sync_changes_nothing(directory):
    sync.sync_from("ldap")
    again = sync.sync_from("ldap")
    assert again.changes == 0, again
    assert again.people_seen == 5 and again.departments_seen == 4


def test_renamed_department_stays_one_department(directory):
    sync.sync_from("ldap")
    dept_id = _user("lina").department_id
    directory.admin().modify_dn(f"ou=产品部,{PEOPLE}", "ou=产品与设计部")
    report = sync.sync_from("ldap")
    assert report.departments_renamed == [("产品部", "产品与设计部")]
    assert report.people_moved == []  # same department, new name
    lina = _user("lina")
    assert lina.department_id == dept_id and lina.department.name == "产品与设计部"
    assert db.session.scalar(select(func.count()).select_from(Department).where(Department.name == "产品部")) == 0


def test_person_moved_to_another_ou_moves_department(directory):
    sync.sync_from("ldap")
    admin = directory.admin()
    admin.modify_dn(f"uid=zhangwei,ou=研发部,{PEOPLE}", "uid=zhangwei", new_superior=f"ou=产品部,{PEOPLE}")
    # the group lists members by DN: follow the move there as a directory admin would (AD does it by itself)
    admin.modify("cn=minutes-users,ou=groups,dc=example,dc=com", {"member": [
        ("MODIFY_DELETE", [f"uid=zhangwei,ou=研发部,{PEOPLE}"]), ("MODIFY_ADD", [f"uid=zhangwei,ou=产品部,{PEOPLE}"])]})
    report = sync.sync_from("ldap")
    assert report.people_moved == [("张伟", "研发部", "产品部")]
    assert _user("zhangwei").department.name == "产品部"
    assert sync.sync_from("ldap").changes == 0


def test_attributes_and_head_follow_the_directory(directory):
    sync.sync_from("ldap")
    admin = directory.admin()
    admin.modify(f"uid=zhangwei,ou=研发部,{PEOPLE}", {"cn": [("MODIFY_REPLACE", ["张伟明"])],
                                                     "mail": [("MODIFY_REPLACE", ["zwm@example.com"])]})
    admin.modify("cn=dept-heads,ou=groups,dc=example,dc=com",
                 {"member": [("MODIFY_ADD", [f"uid=zhangwei,ou=研发部,{PEOPLE}"])]})
    report = sync.sync_from("ldap")
    assert report.people_updated == [("张伟明（研发部）", ["姓名", "邮箱", "部门负责人"])]
    zw = _user("zhangwei")
    assert (zw.name, zw.email, zw.is_department_head) == ("张伟明", "zwm@example.com", True)


def test_person_who_left_is_deactivated_not_deleted_and_comes_back(directory):
    sync.sync_from("ldap")
    zw = _user("zhangwei")
    version = zw.session_version
    group = "cn=minutes-users,ou=groups,dc=example,dc=com"
    member = f"uid=zhangwei,ou=研发部,{PEOPLE}"
    directory.admin().modify(group, {"member": [("MODIFY_DELETE", [member])]})
    report = sync.sync_from("ldap")
    assert report.people_deactivated == ["张伟（研发部）"]
    zw = _user("zhangwei")
    assert zw is not None and not zw.is_enabled and zw.session_version == version + 1  # sessions end
    assert sync.sync_from("ldap").changes == 0
    directory.admin().modify(group, {"member": [("MODIFY_ADD", [member])]})
    assert sync.sync_from("ldap").people_reactivated == ["张伟（研发部）"]
    assert _user("zhangwei").is_enabled and _user("zhangwei").id == zw.id


def test_entry_deleted_then_recreated_relinks_the_same_account(directory):
    sync.sync_from("ldap")
    zw_id = _user("zhangwei").id
    directory.admin().delete(f"uid=zhangwei,ou=研发部,{PEOPLE}")
    assert sync.sync_from("ldap").people_deactivated == ["张伟（研发部）"]
    # the entry is back with a new entryUUID (re-created by the directory's admin)
    directory.admin().add(f"uid=zhangwei,ou=研发部,{PEOPLE}", ["inetOrgPerson"],
                          {"uid": "zhangwei", "cn": "张伟", "sn": "张", "mail": "zhangwei@example.com", "title": "高级工程师"})
    report = sync.sync_from("ldap")
    assert report.people_linked == ["张伟（研发部）"] and report.people_reactivated == ["张伟（研发部）"]
    assert report.people_created == []
    zw = _user("zhangwei")
    assert zw.id == zw_id and zw.is_enabled
    assert db.session.scalar(select(func.count()).select_from(ExternalIdentity).filter_by(user_id=zw_id)) == 1


def test_disabled_in_the_directory_deactivates_and_enabling_reactivates(directory):
    sync.sync_from("ldap")
    admin = directory.admin()
    admin.modify(f"uid=zhaomin,ou=市场部,{PEOPLE}", {"employeeType": [("MODIFY_REPLACE", ["disabled"])]})
    assert sync.sync_from("ldap").people_deactivated == ["赵敏（市场部）"]
    assert not _user("zhaomin").is_enabled
    admin.modify(f"uid=zhaomin,ou=市场部,{PEOPLE}", {"employeeType": [("MODIFY_DELETE", [])]})
    assert sync.sync_from("ldap").people_reactivated == ["赵敏（市场部）"]
    assert _user("zhaomin").is_enabled


def test_removed_from_the_sign_in_group_is_deactivated(directory):
    sync.sync_from("ldap")
    directory.admin().modify("cn=minutes-users,ou=groups,dc=example,dc=com",
                             {"member": [("MODIFY_DELETE", [f"uid=wangfang,ou=前端组,ou=研发部,{PEOPLE}"])]})
    assert sync.sync_from("ldap").people_deactivated == ["王芳（前端组）"]


def test_only_accounts_linked_to_the_provider_are_deactivated_and_admins_never(directory, make_user):
    local = make_user("localonly", "本地用户", dept="研发部")
    admin = make_user("zhaomin", "赵敏", dept="市场部", admin=True)  # linked by username at the first sync
    report = sync.sync_from("ldap")
    assert report.people_linked == ["赵敏（市场部）"]
    directory.admin().delete(f"uid=zhaomin,ou=市场部,{PEOPLE}")
    report = sync.sync_from("ldap")
    assert report.people_deactivated == [] and any("管理员账号" in s for s in report.skipped)
    assert _user("localonly").is_enabled and _user("zhaomin").is_enabled
    assert local.id != admin.id


def test_existing_department_of_the_same_name_is_adopted(directory, make_user):
    make_user("someone", "某人", dept="研发部")
    dept_id = _user("someone").department_id
    report = sync.sync_from("ldap")
    assert "研发部" not in report.departments_created
    assert _user("zhangwei").department_id == dept_id
    assert db.session.scalar(select(ExternalDepartment.department_id).filter_by(provider="ldap", subject=_subject_of("研发部"))) == dept_id


def _subject_of(ou):
    from tests.identity.slapd import ROOT_DN  # noqa: F401
    return db.session.scalar(select(ExternalDepartment.subject).join(Department, Department.id == ExternalDepartment.department_id)
                             .where(Department.name == ou))


def test_empty_directory_deactivates_nobody(directory, app):
    sync.sync_from("ldap")
    app.config["LDAP_USER_FILTER"] = "(uid=nobody-at-all)"
    import pytest

    from minutes.core.errors import RuleViolation

    with pytest.raises(RuleViolation):
        sync.sync_from("ldap")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.is_enabled.is_(False))) == 0


def test_same_input_from_any_source_is_idempotent(app):
    """The engine the vendors' contacts APIs feed: plain records in, the same rules."""
    depts = [DirectoryDepartment("d1", "财务部"), DirectoryDepartment("d2", "法务部", parent="d1")]
    people = [DirectoryPerson(Profile("u1", "qianyi", "钱一", "qy@example.com", title="会计"), department="d1"),
              DirectoryPerson(Profile("u2", "sunsan", "孙三", is_department_head=True), department="d2")]
    first = sync.run_sync("feishu", depts, people)
    assert first.changes == 4
    assert sync.run_sync("feishu", depts, people).changes == 0
    gone = sync.run_sync("feishu", depts, people[:1])
    assert gone.people_deactivated == ["孙三（法务部）"]
    assert db.session.scalar(select(func.count()).select_from(ExternalIdentity)) == 2


def test_sync_command_prints_the_report(directory, runner):
    result = runner.invoke(args=["minutes", "sync-directory"])
    assert result.exit_code == 0, result.output
    assert "新建人员 4" in result.output
    result = runner.invoke(args=["minutes", "sync-directory"])
    assert "共 0 项变更" in result.output


def test_tick_syncs_when_configured_and_due(directory, runner, app):
    app.config.update(DIRECTORY_SYNC="ldap", DIRECTORY_SYNC_MINUTES=60)
    result = runner.invoke(args=["minutes", "tick"])
    assert result.exit_code == 0, result.output
    assert "新建人员 4" in result.output
    assert _user("zhangwei") is not None
    result = runner.invoke(args=["minutes", "tick"])  # within the hour: not due
    assert "目录同步" not in result.output


def test_tick_reports_an_unreachable_directory(directory, runner, app):
    app.config.update(DIRECTORY_SYNC="ldap")
    directory.stop()
    result = runner.invoke(args=["minutes", "tick"])
    assert result.exit_code != 0
    assert "无法连接公司目录服务" in result.output


def test_admin_button_runs_the_sync_and_shows_the_report(directory, client, login_as, make_user):
    admin = make_user("admin", "管理员", admin=True)
    login_as(admin)
    page = client.get("/admin/directory")
    assert page.status_code == 200 and "立即同步" in page.get_data(as_text=True)
    response = client.post("/admin/directory/sync", data={"source": "ldap"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "共 7 项变更" in html  # 产品部 existed (the admin's): adopted, not created
    assert "新建人员：张伟（研发部）" in html
    assert _user("zhangwei") is not None
    again = client.post("/admin/directory/sync", data={"source": "ldap"}).get_data(as_text=True)
    assert "共 0 项变更" in again and "没有需要变更的内容" in again
    assert client.post("/admin/directory/sync", data={"source": "nope"}).status_code == 422


def test_directory_page_is_for_administrators_only(directory, client, login_as, make_user):
    login_as(make_user("wangwu", "王五"))
    assert client.get("/admin/directory").status_code == 403
    assert client.post("/admin/directory/sync", data={"source": "ldap"}).status_code == 403
    assert _user("zhangwei") is None


def test_two_hosts_syncing_at_once_apply_it_once(directory, app):
    """Two processes' worth of sync at the same moment (threads, each with its own session and connection)."""
    import threading

    reports, errors = [], []
    barrier = threading.Barrier(2)

    def host():
        with app.app_context():
            try:
                barrier.wait()
                reports.append(sync.sync_from("ldap"))
            except Exception as exc:  # reported below: the test fails with it
                errors.append(exc)
            finally:
                db.session.remove()

    db.session.commit()
    threads = [threading.Thread(target=host) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(r.changes for r in reports if not r.locked_out) in ([0, 8], [8])
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == 4
    assert db.session.scalar(select(func.count()).select_from(Department)) == 4


def test_departments_and_heads_from_attributes(directory, app):
    """AD's way: the department is an attribute of the person, the head is marked by an attribute."""
    app.config.update(LDAP_ATTR_DEPARTMENT="departmentNumber", LDAP_HEAD_GROUP_DN="", LDAP_ATTR_HEAD="businessCategory")
    admin = directory.admin()
    for dn, dept in [(f"uid=zhangwei,ou=研发部,{PEOPLE}", "技术中心"), (f"uid=wangfang,ou=前端组,ou=研发部,{PEOPLE}", "技术中心"),
                     (f"uid=lina,ou=产品部,{PEOPLE}", "产品中心"), (f"uid=zhaomin,ou=市场部,{PEOPLE}", "产品中心")]:
        assert admin.modify(dn, {"departmentNumber": [("MODIFY_ADD", [dept])]})
    assert admin.modify(f"uid=wangfang,ou=前端组,ou=研发部,{PEOPLE}", {"businessCategory": [("MODIFY_ADD", ["是"])]})
    report = sync.sync_from("ldap")
    assert sorted(report.departments_created) == ["产品中心", "技术中心"]
    assert _user("wangfang").department.name == "技术中心" and _user("wangfang").is_department_head
    assert _user("zhaomin").department.name == "产品中心" and not _user("zhaomin").is_department_head
    assert sync.sync_from("ldap").changes == 0
    assert admin.modify(f"uid=zhaomin,ou=市场部,{PEOPLE}", {"departmentNumber": [("MODIFY_REPLACE", ["技术中心"])]})
    assert sync.sync_from("ldap").people_moved == [("赵敏", "产品中心", "技术中心")]
