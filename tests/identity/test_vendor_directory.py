"""The vendors' contacts APIs read into DirectoryDepartment / DirectoryPerson lists for the org sync (loopback servers)."""
import pytest

from minutes.identity import service, vendors
from tests.identity.vendor_servers import DingTalkServer, FeishuServer, WeComServer


@pytest.fixture
def feishu():
    server = FeishuServer()
    server.departments.update({
        "od-rd": {"name": "研发中心", "parent": "0", "leader": "boss01"},
        "od-be": {"name": "后端组", "parent": "od-rd", "leader": "lead02"},
        "od-old": {"name": "已撤销部门", "parent": "0", "deleted": True}})
    server.members.update({
        "boss01": {"name": "赵总", "enterprise_email": "zhao@corp.example", "title": "CTO", "departments": ["od-rd"]},
        "lead02": {"name": "钱组长", "email": "qian@corp.example", "departments": ["od-be", "od-rd"]},
        "gone03": {"name": "孙离职", "departments": ["od-be"], "resigned": True},
        "ceo": {"name": "老板", "departments": ["0"]}})
    for n in range(60):  # more than one page of 50
        server.members[f"dev{n:03d}"] = {"name": f"开发{n}", "departments": ["od-be"]}
    yield server
    server.stop()


@pytest.fixture
def dingtalk():
    server = DingTalkServer()
    server.departments.update({"10": {"name": "销售部", "parent_id": 1}, "11": {"name": "华东区", "parent_id": 10}})
    server.members.update({
        "m100": {"name": "周经理", "unionid": "u100", "org_email": "zhou@corp.example", "title": "经理",
                 "dept_id_list": [10, 11], "leads": [11]},
        "m101": {"name": "吴员工", "unionid": "u101", "dept_id_list": [11], "left": True},
        "m001": {"name": "郑总", "unionid": "u001", "dept_id_list": [1]}})
    for n in range(130):  # more than one page of 100
        server.members[f"s{n:03d}"] = {"name": f"销售{n}", "unionid": f"us{n}", "dept_id_list": [11]}
    yield server
    server.stop()


@pytest.fixture
def wecom():
    server = WeComServer()
    server.departments.update({"2": {"name": "人事部", "parentid": 1}, "3": {"name": "招聘组", "parentid": 2}})
    server.members.update({
        "HanMei": {"name": "韩梅", "department": [2, 3], "leads": [2], "biz_mail": "hanmei@corp.example",
                   "position": "人事总监"},
        "LiLei": {"name": "李雷", "department": [3], "status": 5},
        "Newbie": {"name": "新人", "department": [3], "status": 4}})
    yield server
    server.stop()


def _config(app, **settings):
    app.config.update(settings)
    return app.config


def test_feishu_directory(app, feishu):
    config = _config(app, FEISHU_APP_ID=feishu.app_id, FEISHU_APP_SECRET=feishu.app_secret, FEISHU_BASE_URL=feishu.url)
    departments, people = vendors.fetch_directory("feishu", config)
    assert {(d.subject, d.name, d.parent) for d in departments} == {("od-rd", "研发中心", None),
                                                                    ("od-be", "后端组", "od-rd")}
    by_id = {p.profile.subject: p for p in people}
    assert len(people) == 64 and len(by_id) == 64  # 60 on two pages; someone in two departments once
    boss, lead, gone, ceo = by_id["boss01"], by_id["lead02"], by_id["gone03"], by_id["ceo"]
    assert (boss.profile.name, boss.profile.email, boss.profile.title, boss.department) == (
        "赵总", "zhao@corp.example", "CTO", "od-rd")
    assert boss.profile.is_department_head and lead.profile.is_department_head
    assert not by_id["dev000"].profile.is_department_head
    assert lead.department == "od-be" and lead.profile.email == "qian@corp.example"
    assert gone.enabled is False and boss.enabled is True
    assert ceo.department is None  # at the company's root


def test_dingtalk_directory(app, dingtalk):
    config = _config(app, DINGTALK_CLIENT_ID=dingtalk.client_id, DINGTALK_CLIENT_SECRET=dingtalk.client_secret,
                     DINGTALK_OAPI_URL=dingtalk.url)
    departments, people = vendors.fetch_directory("dingtalk", config)
    assert {(d.subject, d.name, d.parent) for d in departments} == {("10", "销售部", None), ("11", "华东区", "10")}
    by_id = {p.profile.subject: p for p in people}
    assert len(people) == 133 == len(by_id)
    zhou = by_id["m100"]
    assert (zhou.profile.name, zhou.profile.email, zhou.profile.title, zhou.department) == (
        "周经理", "zhou@corp.example", "经理", "10")
    assert zhou.profile.is_department_head is True  # heads 华东区 (seen on the second department's list)
    assert by_id["m101"].enabled is False and by_id["s129"].enabled is True
    assert by_id["m001"].department is None


def test_wecom_directory(app, wecom):
    config = _config(app, WECOM_CORP_ID=wecom.corp_id, WECOM_AGENT_ID=wecom.agent_id, WECOM_SECRET=wecom.secret,
                     WECOM_BASE_URL=wecom.url)
    departments, people = vendors.fetch_directory("wecom", config)
    assert {(d.subject, d.name, d.parent) for d in departments} == {("2", "人事部", None), ("3", "招聘组", "2")}
    by_id = {p.profile.subject: p for p in people}
    assert set(by_id) == {"HanMei", "LiLei", "Newbie"}
    han = by_id["HanMei"]
    assert (han.profile.name, han.profile.email, han.profile.title, han.department, han.profile.is_department_head) == (
        "韩梅", "hanmei@corp.example", "人事总监", "2", True)
    assert by_id["LiLei"].enabled is False  # left the company
    assert by_id["Newbie"].enabled is True  # not yet activated: still an employee


@pytest.mark.parametrize("provider", ["feishu", "dingtalk", "wecom"])
def test_a_wrong_secret_stops_the_directory_read_with_a_message(app, feishu, dingtalk, wecom, provider):
    config = _config(app, FEISHU_APP_ID=feishu.app_id, FEISHU_APP_SECRET="wrong", FEISHU_BASE_URL=feishu.url,
                     DINGTALK_CLIENT_ID=dingtalk.client_id, DINGTALK_CLIENT_SECRET="wrong",
                     DINGTALK_OAPI_URL=dingtalk.url, WECOM_CORP_ID=wecom.corp_id, WECOM_AGENT_ID=wecom.agent_id,
                     WECOM_SECRET="wrong", WECOM_BASE_URL=wecom.url)
    with pytest.raises(service.ProviderUnavailable, match="请管理员检查"):
        vendors.fetch_directory(provider, config)
    assert vendors.configured_directories(config) == ["feishu", "dingtalk", "wecom"]


# --- the vendors' contacts as sources of the org sync, through the entry points an administrator uses ---------

def _wecom_settings(app, wecom, **more):
    _config(app, WECOM_CORP_ID=wecom.corp_id, WECOM_AGENT_ID=wecom.agent_id, WECOM_SECRET=wecom.secret,
            WECOM_BASE_URL=wecom.url, **more)


def _user(username):
    from sqlalchemy import select

    from minutes.extensions import db
    from minutes.people.models import User

    db.session.expire_all()
    return db.session.scalar(select(User).filter_by(username=username))


def test_sync_command_reads_a_vendors_contacts(app, wecom, runner):
    from sqlalchemy import select

    from minutes.extensions import db
    from minutes.identity.models import ExternalIdentity

    _wecom_settings(app, wecom)
    result = runner.invoke(args=["minutes", "sync-directory", "--source", "wecom", "-v"])
    assert result.exit_code == 0, result.output
    assert "人事部" in result.output and "韩梅" in result.output
    han = _user("HanMei")
    assert (han.name, han.department.name, han.email, han.is_department_head) == ("韩梅", "人事部", "hanmei@corp.example", True)
    assert _user("Newbie").is_enabled and _user("LiLei") is None  # left before the first sync: never created
    # the chat cards find the person by this identity (issue 19)
    identity = db.session.scalar(select(ExternalIdentity).filter_by(provider="wecom", subject="HanMei"))
    assert identity.user_id == han.id
    again = runner.invoke(args=["minutes", "sync-directory", "--source", "wecom"])
    assert again.exit_code == 0 and "共 0 项变更" in again.output, again.output


def test_tick_syncs_every_source_of_directory_sync(app, wecom, feishu, runner):
    _wecom_settings(app, wecom, FEISHU_APP_ID=feishu.app_id, FEISHU_APP_SECRET=feishu.app_secret,
                    FEISHU_BASE_URL=feishu.url, DIRECTORY_SYNC="wecom,feishu")
    result = runner.invoke(args=["minutes", "tick"])
    assert result.exit_code == 0, result.output
    assert _user("HanMei").department.name == "人事部"  # from WeCom
    assert _user("lead02").department.name == "后端组"  # from Feishu


def test_unconfigured_or_unknown_vendor_source_is_refused_with_a_message(app, runner):
    result = runner.invoke(args=["minutes", "sync-directory", "--source", "wecom"])
    assert result.exit_code != 0 and "未配置 wecom 的通讯录（WECOM_CORP_ID" in result.output
    result = runner.invoke(args=["minutes", "sync-directory", "--source", "qq"])
    assert result.exit_code != 0 and "未知的目录来源：qq" in result.output


def test_admin_page_offers_and_runs_a_vendor_source(app, wecom, client, login_as, make_user):
    _wecom_settings(app, wecom)
    login_as(make_user("root", admin=True))
    page = client.get("/admin/directory").get_data(as_text=True)
    assert "企业微信" in page and 'value="wecom"' in page
    response = client.post("/admin/directory/sync", data={"source": "wecom"})
    assert response.status_code == 200
    assert "同步完成" in response.get_data(as_text=True) and "韩梅" in response.get_data(as_text=True)
    assert _user("HanMei").department.name == "人事部"
    assert client.post("/admin/directory/sync", data={"source": "dingtalk"}).status_code == 422  # not configured
