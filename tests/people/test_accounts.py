"""Account rules in the people service that the admin pages rely on."""
import pytest

from minutes.core.errors import PermissionDenied, ValidationFailed
from minutes.people import service
from minutes.people.service import get_department


def test_only_admins_may_create_accounts(app, make_user):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    with pytest.raises(PermissionDenied):
        service.create_account(user, username="mole", name="内鬼", department_id=user.department_id,
                               password="12345678")


def test_disabled_account_fails_authentication(app, make_user):
    user = make_user("zhaomin", "赵敏", dept="客服部")
    assert service.authenticate("zhaomin", "correct-horse-42") == user
    user.is_enabled = False
    assert service.authenticate("zhaomin", "correct-horse-42") is None


def test_disabling_bumps_session_version_so_old_cookies_stop_working(app, make_user):
    admin = make_user("admin", dept="人力资源部", admin=True)
    user = make_user("zhaomin", "赵敏", dept="客服部")
    old_id = user.get_id()
    service.update_user(admin, user, name="赵敏", email=None, department_id=user.department_id, title=None,
                        is_admin=False, is_enabled=False)
    assert user.session_version == 2
    user.is_enabled = True
    assert service.user_by_session_id(old_id) is None
    assert service.user_by_session_id(user.get_id()) == user


def test_saving_an_enabled_account_keeps_its_sessions(app, make_user):
    admin = make_user("admin", dept="人力资源部", admin=True)
    user = make_user("zhaomin", "赵敏", dept="客服部")
    service.update_user(admin, user, name="赵敏敏", email=None, department_id=user.department_id, title=None,
                        is_admin=False, is_enabled=True)
    assert user.session_version == 1


def test_csv_import_decodes_gbk_and_keeps_columns_in_any_order(app, make_user):
    admin = make_user("admin", dept="人力资源部", admin=True)
    get_department("客服部", create=True)
    data = "用户名,部门,职位,姓名\r\nsunli,客服部,客服主管,孙丽\r\n".encode("gbk")
    [user] = service.import_users_csv(admin, data, "chushi-2026")
    assert (user.username, user.name, user.department.name, user.title) == ("sunli", "孙丽", "客服部", "客服主管")


def test_csv_import_failure_lists_every_line(app, make_user):
    admin = make_user("admin", dept="人力资源部", admin=True)
    with pytest.raises(service.ImportFailed) as caught:
        service.import_users_csv(admin, "部门,姓名,用户名\n采购部,王五,wangwu\n销售部,赵六,zhaoliu\n", "chushi-2026")
    assert caught.value.lines == ["第2行：部门“采购部”不存在，请先在部门管理中添加，或改为已有部门",
                                  "第3行：部门“销售部”不存在，请先在部门管理中添加，或改为已有部门"]
    assert isinstance(caught.value, ValidationFailed) and caught.value.status == 422


def test_unreadable_encoding_is_refused_with_advice(app, make_user):
    admin = make_user("admin", dept="人力资源部", admin=True)
    with pytest.raises(ValidationFailed, match="无法识别文件编码"):
        service.import_users_csv(admin, b"\xff\xfe\x00\xd8\x00\x00", "chushi-2026")
