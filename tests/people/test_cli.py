"""`flask minutes create-user` and `flask minutes demo`, through the real command line."""
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from minutes.extensions import db
from minutes.meetings.models import Meeting
from minutes.notify.models import OutboxMessage
from minutes.people.models import Department, User
from minutes.people.service import user_by_username


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def create_user(runner, *args):
    return runner.invoke(args=["minutes", "create-user", *args])


def test_create_user_creates_the_department_when_missing(runner):
    result = create_user(runner, "zhaomin", "--name", "赵敏", "--department", "客服部", "--password", "chushi-2026",
                         "--email", "zhaomin@example.com")
    assert result.exit_code == 0, result.output
    assert "已创建用户 zhaomin（赵敏，客服部）" in result.output
    user = user_by_username("zhaomin")
    assert user.department.name == "客服部" and user.email == "zhaomin@example.com"
    assert not user.is_admin and not user.is_demo
    assert check_password_hash(user.password_hash, "chushi-2026")


def test_create_user_joins_an_existing_department(runner):
    create_user(runner, "zhaomin", "--name", "赵敏", "--department", "客服部", "--password", "chushi-2026")
    result = create_user(runner, "sunli", "--name", "孙丽", "--department", "客服部", "--password", "chushi-2026")
    assert result.exit_code == 0, result.output
    assert count(Department) == 1
    assert user_by_username("sunli").department_id == user_by_username("zhaomin").department_id


def test_create_user_with_admin_flag_makes_an_administrator_who_reaches_admin_pages(runner, client):
    result = create_user(runner, "root", "--name", "管理员", "--department", "信息部", "--password", "chushi-2026",
                         "--admin")
    assert result.exit_code == 0 and "管理员" in result.output
    assert user_by_username("root").is_admin
    client.post("/login", data={"username": "root", "password": "chushi-2026"})
    assert client.get("/admin/users").status_code == 200


def test_create_user_with_bad_email_fails_in_chinese_and_saves_nothing(runner):
    result = create_user(runner, "zhaomin", "--name", "赵敏", "--department", "客服部", "--password", "chushi-2026",
                         "--email", "not-an-email")
    assert result.exit_code != 0
    assert "邮箱“not-an-email”格式不正确" in result.output
    assert count(User) == 0 and count(Department) == 0


def test_create_user_with_short_password_fails(runner):
    result = create_user(runner, "zhaomin", "--name", "赵敏", "--department", "客服部", "--password", "123")
    assert result.exit_code != 0 and "密码至少8位" in result.output
    assert count(User) == 0


def test_create_user_with_taken_username_fails(runner, make_user):
    make_user("zhaomin", "赵敏", dept="客服部")
    result = create_user(runner, "zhaomin", "--name", "另一个赵敏", "--department", "产品部", "--password", "chushi-2026")
    assert result.exit_code != 0 and "用户名“zhaomin”已被使用" in result.output
    assert count(User) == 1 and count(Department) == 1


def test_create_user_with_bad_username_fails(runner):
    result = create_user(runner, "赵 敏", "--name", "赵敏", "--department", "客服部", "--password", "chushi-2026")
    assert result.exit_code != 0 and "用户名须为2–64位字母、数字" in result.output


def test_create_user_with_blank_name_fails(runner):
    result = create_user(runner, "zhaomin", "--name", " ", "--department", "客服部", "--password", "chushi-2026")
    assert result.exit_code != 0 and "请填写姓名" in result.output


def test_create_user_with_blank_department_fails(runner):
    result = create_user(runner, "zhaomin", "--name", "赵敏", "--department", " ", "--password", "chushi-2026")
    assert result.exit_code != 0 and "请填写部门名称" in result.output
    assert count(User) == 0


def test_create_user_without_required_option_fails(runner):
    result = create_user(runner, "zhaomin", "--department", "客服部", "--password", "chushi-2026")
    assert result.exit_code != 0 and "--name" in result.output


def test_demo_creates_departments_people_meetings_and_prints_accounts(runner):
    result = runner.invoke(args=["minutes", "demo"])
    assert result.exit_code == 0, result.output
    assert "演示账号（密码均为 minutes2026）" in result.output
    assert "admin" in result.output and "赵敏（客服部）" in result.output
    # who to log in as for each meeting: the host and the recorder of the source document's example
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:] if line.startswith("  ")}
    assert "主持“解决客户投诉处理流程卡点”" in lines["zhaomin"]
    assert "记录“解决客户投诉处理流程卡点”" in lines["chenjing"]
    assert lines["zhangwei"].count("主持") == 1 and "“新版会员体系上线协调会”（进行中）" in lines["zhangwei"]
    assert "主持" not in lines["admin"] and "记录" not in lines["admin"]
    assert set(db.session.scalars(select(Department.name))) >= {"客服部", "产品部", "技术部", "法务部", "市场部",
                                                                "财务部", "人力资源部"}
    assert count(User) >= 12 and all(db.session.scalars(select(User.is_demo)))
    assert user_by_username("admin").is_admin
    topics = set(db.session.scalars(select(Meeting.topic)))
    assert "解决客户投诉处理流程卡点" in topics
    assert count(OutboxMessage) > 0  # the sent agendas went to the outbox


def test_demo_accounts_log_in_with_the_given_password(runner, app):
    assert runner.invoke(args=["minutes", "demo", "--password", "yanshi-2026"]).exit_code == 0
    response = app.test_client().post("/login", data={"username": "admin", "password": "yanshi-2026"})
    assert response.status_code == 302


def test_demo_refuses_a_database_with_a_real_user(runner, make_user):
    make_user("zhaomin", "赵敏", dept="客服部")
    result = runner.invoke(args=["minutes", "demo"])
    assert result.exit_code != 0
    assert "已有非演示数据" in result.output
    assert count(User) == 1 and count(Meeting) == 0


def test_demo_twice_refuses_the_second_time(runner):
    assert runner.invoke(args=["minutes", "demo"]).exit_code == 0
    users, meetings = count(User), count(Meeting)
    result = runner.invoke(args=["minutes", "demo"])
    assert result.exit_code != 0 and "演示数据已存在" in result.output
    assert (count(User), count(Meeting)) == (users, meetings)


def test_demo_if_empty_skips_a_database_that_has_accounts(runner, make_user):
    make_user("zhaomin", "赵敏", dept="客服部")
    result = runner.invoke(args=["minutes", "demo", "--if-empty"])
    assert result.exit_code == 0
    assert "跳过" in result.output
    assert count(User) == 1 and count(Meeting) == 0


def test_demo_if_empty_fills_an_empty_database(runner):
    result = runner.invoke(args=["minutes", "demo", "--if-empty"])
    assert result.exit_code == 0 and "演示数据已创建" in result.output
    assert count(Meeting) >= 4


def test_demo_holds_a_meeting_in_every_state(runner, app):
    from sqlalchemy import select

    from minutes.meetings.models import Meeting, MeetingStatus

    result = runner.invoke(args=["minutes", "demo"])
    assert result.exit_code == 0, result.output
    states = set(db.session.scalars(select(Meeting.status)))
    assert {MeetingStatus.DRAFT, MeetingStatus.AGENDA_SENT, MeetingStatus.IN_PROGRESS, MeetingStatus.MINUTES_DUE,
            MeetingStatus.DISTRIBUTED, MeetingStatus.FINAL} <= states
    assert "解决客户投诉处理流程卡点" in set(db.session.scalars(select(Meeting.topic)))


def test_demo_in_local_mailbox_mode_puts_its_mail_in_the_mailbox(runner, app, smtp_server):
    from minutes.notify.models import OutboxStatus

    app.config["MAIL_DEV_MAILBOX"] = True
    assert runner.invoke(args=["minutes", "demo"]).exit_code == 0
    statuses = set(db.session.scalars(select(OutboxMessage.status).where(OutboxMessage.channel == "email")))
    assert statuses == {OutboxStatus.SENT} and smtp_server.messages == []
