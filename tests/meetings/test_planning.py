"""Meeting planning through the pages: create, agenda, invitations, permissions."""
import io

from sqlalchemy import func, select

from minutes.extensions import db
from minutes.meetings import files, materials, service
from minutes.meetings.models import AgendaItem, Meeting, Participant, Role


def meeting_form(**overrides):
    data = {
        "topic": "解决客户投诉处理流程卡点", "goal": "明确各部门职责", "expected_outcome": "形成行动方案",
        "scenario": "problem", "starts_at": "2026-06-15T14:00", "ends_at": "2026-06-15T15:30",
        "location": "301会议室", "online_link": "", "organizer_department_id": "", "confidential": "",
    }
    data.update(overrides)
    return data


def test_create_meeting_makes_creator_host(client, login_as, make_user):
    user = login_as(make_user("zhaomin", "赵敏", dept="客服部"))
    response = client.post("/meetings/new", data=meeting_form(organizer_department_id=str(user.department_id)))
    assert response.status_code == 303
    meeting = db.session.scalar(select(Meeting))
    assert meeting.topic == "解决客户投诉处理流程卡点"
    assert meeting.host.username == "zhaomin"
    assert meeting.duration_minutes == 90
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "解决客户投诉处理流程卡点" in page and "2026年6月15日（周一） 14:00" in page


def test_create_meeting_with_empty_topic_keeps_input_and_saves_nothing(client, login_as, make_user):
    user = login_as(make_user("zhaomin", dept="客服部"))
    response = client.post("/meetings/new", data=meeting_form(topic="  ", goal="这段目标要保留",
                                                             organizer_department_id=str(user.department_id)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写会议主题" in html
    assert "这段目标要保留" in html
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_end_before_start_is_refused(client, login_as, make_user):
    user = login_as(make_user("zhaomin", dept="客服部"))
    response = client.post("/meetings/new", data=meeting_form(ends_at="2026-06-15T13:00",
                                                             organizer_department_id=str(user.department_id)))
    assert response.status_code == 422
    assert "结束时间须晚于开始时间" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_agenda_items_keep_priority_order_and_reorder(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", dept="客服部"))
    meeting = make_meeting(host)
    for title in ("投诉时效", "模板优化", "法务介入"):
        r = client.post(f"/meetings/{meeting.id}/agenda", data={"title": title, "minutes": "20"},
                        headers={"HX-Request": "true"})
        assert r.status_code == 200
        assert 'id="agenda"' in r.get_data(as_text=True)
    items = db.session.scalars(select(AgendaItem).order_by(AgendaItem.position)).all()
    assert [i.title for i in items] == ["投诉时效", "模板优化", "法务介入"]
    ids = [items[2].id, items[0].id, items[1].id]
    r = client.post(f"/meetings/{meeting.id}/agenda/order", data={"item": [str(i) for i in ids]},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert [i.title for i in db.session.get(Meeting, meeting.id).agenda_items] == ["法务介入", "投诉时效", "模板优化"]
    r = client.post(f"/agenda/{items[1].id}/move", data={"direction": "up"}, headers={"HX-Request": "true"})
    assert [i.title for i in db.session.get(Meeting, meeting.id).agenda_items] == ["法务介入", "模板优化", "投诉时效"]


def test_agenda_overrun_is_warned(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", dept="客服部"))
    meeting = make_meeting(host, minutes=60)
    client.post(f"/meetings/{meeting.id}/agenda", data={"title": "A", "minutes": "40"})
    r = client.post(f"/meetings/{meeting.id}/agenda", data={"title": "B", "minutes": "30"}, headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert "议程超出会议时长 10分钟" in html
    assert service.agenda_budget(db.session.get(Meeting, meeting.id)).over == 10


def test_bad_agenda_minutes_keeps_title(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", dept="客服部"))
    meeting = make_meeting(host)
    r = client.post(f"/meetings/{meeting.id}/agenda", data={"title": "预算复核", "minutes": "abc"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "预计时长须为1–480之间的整数" in html and 'value="预算复核"' in html
    assert db.session.scalar(select(func.count()).select_from(AgendaItem)) == 0


def test_material_upload_limits(client, login_as, make_user, make_meeting, app):
    host = login_as(make_user("zhaomin", dept="客服部"))
    meeting = make_meeting(host)
    item = service.add_agenda_item(host, meeting, "数据报表", 20)
    db.session.commit()
    ok = client.post(f"/agenda/{item.id}/materials", data={"file": (io.BytesIO(b"%PDF-1.4 data"), "投诉数据.pdf")},
                     headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert ok.status_code == 200 and "投诉数据.pdf" in ok.get_data(as_text=True)
    bad_type = client.post(f"/agenda/{item.id}/materials", data={"file": (io.BytesIO(b"MZ"), "run.exe")},
                           headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert bad_type.status_code == 422 and "不支持的文件类型" in bad_type.get_data(as_text=True)
    big = b"x" * (app.config["MAX_UPLOAD_BYTES"] + 10)
    too_big = client.post(f"/agenda/{item.id}/materials", data={"file": (io.BytesIO(big), "big.pdf")},
                          headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert too_big.status_code in (413, 422) and "大小上限" in too_big.get_data(as_text=True)
    assert [m.name for m in db.session.get(AgendaItem, item.id).materials] == ["投诉数据.pdf"]
    download = client.get(f"/materials/{item.materials[0].id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.data == b"%PDF-1.4 data"


def test_second_host_is_refused(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", dept="客服部"))
    other = make_user("zhangwei", dept="产品部")
    meeting = make_meeting(host)
    r = client.post(f"/meetings/{meeting.id}/participants", data={"user_ids": [str(other.id)], "role": "host"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 409
    assert "每次会议只能有一位主持人" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1


def test_role_change_keeps_one_recorder(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", dept="客服部"))
    a, b = make_user("chenjing", dept="产品部"), make_user("sunli", dept="客服部")
    meeting = make_meeting(host)
    client.post(f"/meetings/{meeting.id}/participants", data={"user_ids": [str(a.id)], "role": "recorder"})
    client.post(f"/meetings/{meeting.id}/participants", data={"user_ids": [str(b.id)], "role": "participant"})
    pb = db.session.scalar(select(Participant).where(Participant.user_id == b.id))
    r = client.post(f"/participants/{pb.id}/role", data={"role": "recorder"}, headers={"HX-Request": "true"})
    assert r.status_code == 409 and "已有记录人" in r.get_data(as_text=True)
    m = db.session.get(Meeting, meeting.id)
    assert m.recorder.username == "chenjing" and m.role_of(b) == Role.PARTICIPANT


def test_department_picker_lists_its_people(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", dept="客服部"))
    make_user("lihua", "李华", dept="技术部")
    make_user("wangqiang", "王强", dept="技术部")
    meeting = make_meeting(host)
    dept = db.session.get(type(host.department), make_user("x1", dept="技术部").department_id)
    html = client.get(f"/meetings/{meeting.id}/department-people?department_id={dept.id}").get_data(as_text=True)
    assert "李华" in html and "王强" in html and "zhaomin" not in html


def test_confidential_meeting_invisible_to_non_invitee(client, login_as, make_user, make_meeting):
    host = make_user("wufang", dept="财务部")
    meeting = make_meeting(host, topic="下半年预算调整", confidential=True)
    outsider = login_as(make_user("zhoujie", dept="市场部"))
    assert client.get(f"/meetings/{meeting.id}").status_code == 404
    assert client.get(f"/meetings/{meeting.id}/edit").status_code == 404
    assert "下半年预算调整" not in client.get("/meetings").get_data(as_text=True)
    assert client.post(f"/meetings/{meeting.id}/agenda", data={"title": "x", "minutes": "5"}).status_code == 404
    public = make_meeting(host, topic="公开的协调会")
    assert client.get(f"/meetings/{public.id}").status_code == 200
    assert client.post(f"/meetings/{public.id}/agenda", data={"title": "x", "minutes": "5"}).status_code == 403


def test_pages_require_login(client, make_user, make_meeting):
    meeting = make_meeting()
    for url in ("/", "/meetings", f"/meetings/{meeting.id}", "/meetings/new", "/admin/users"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    r = client.get("/meetings", headers={"HX-Request": "true"})
    assert r.status_code == 401 and "/login" in r.headers["HX-Redirect"]


def test_dashboard_lists_my_meetings_upcoming_first(client, login_as, make_user, make_meeting, clock):
    clock(2026, 6, 1, 9, 0)
    me = login_as(make_user("zhaomin", dept="客服部"))
    make_meeting(me, topic="较晚的会", starts=(2026, 6, 20, 10, 0))
    make_meeting(me, topic="较早的会", starts=(2026, 6, 3, 10, 0))
    make_meeting(me, topic="已开过的会", starts=(2026, 5, 20, 10, 0))
    make_meeting(topic="与我无关的会", starts=(2026, 6, 4, 10, 0))
    html = client.get("/").get_data(as_text=True)
    assert html.index("较早的会") < html.index("较晚的会") < html.index("已开过的会")
    assert "与我无关的会" not in html


def test_invited_person_is_listed_once_in_the_response(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", dept="客服部"))
    lihua = make_user("lihua", "李华", dept="技术部")
    meeting = make_meeting(host)
    r = client.post(f"/meetings/{meeting.id}/participants", data={"user_ids": [str(lihua.id)], "role": "participant"},
                    headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert html.count('data-user="lihua"') == 1
    assert len(service.invite(host, db.session.get(Meeting, meeting.id), [make_user("x2", dept="技术部").id])) == 1
    assert len(db.session.get(Meeting, meeting.id).participants) == 3


def test_a_material_file_goes_only_with_the_committed_removal(app, make_user, make_meeting):
    """A removal that is rolled back (a failed request) keeps the file its row still points at."""
    import os

    host = make_user("zhaomin", dept="客服部")
    meeting = make_meeting(host)
    item = service.add_agenda_item(host, meeting, "投诉时效", 30)
    material = materials.add_material_file(host, item, "plan.txt", io.BytesIO(b"draft"), "text/plain")
    db.session.commit()
    path = files.material_path(material)
    assert os.path.exists(path)

    materials.delete_material(host, material)
    db.session.rollback()
    assert os.path.exists(path) and db.session.get(type(material), material.id) is not None

    materials.delete_material(host, db.session.get(type(material), material.id))
    assert os.path.exists(path)  # not before the commit
    db.session.commit()
    assert not os.path.exists(path)


def test_meeting_form_enforces_the_length_limits_the_api_states(client, login_as, make_user):
    from minutes.api.schemas import MEETING_CREATE
    from minutes.meetings.service import MEETING_TEXT_LIMITS

    host = login_as(make_user("zhaomin", dept="客服部"))
    for name, (least, most) in MEETING_TEXT_LIMITS.items():
        schema = MEETING_CREATE["properties"][name]
        assert schema["maxLength"] == most and schema.get("minLength", 1) == max(least, 1), name
    form = {"topic": "长" * 600, "goal": "对", "expected_outcome": "", "scenario": "problem",
            "starts_at": "2026-06-15T14:00", "ends_at": "2026-06-15T15:30", "location": "301",
            "organizer_department_id": str(host.department_id)}
    r = client.post("/meetings/new", data=form)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "会议主题不超过200个字（现为600个）" in html and "核心目标至少4个字" in html
    assert 'maxlength="200" minlength="2" data-counter="topic-count"' in html
    assert 'id="topic-count" aria-live="polite">600/200<' in html  # what was typed is kept, counted
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0
