"""A department renamed by the directory sync after the minutes went out: the minutes keep the name at the time."""
import json

from minutes.extensions import db
from minutes.identity import sync
from minutes.identity.service import DirectoryDepartment, DirectoryPerson, Profile
from tests.records.test_signoff import distribute


def test_minutes_show_the_department_name_at_the_time_after_a_rename(recorded, clock, client, login_as):
    r = recorded()
    version = distribute(r, clock)
    tech = r.late.department
    # the directory knows 技术部 by a stable id; the sync links it, then the directory renames it
    person = DirectoryPerson(Profile("u-wangwu", "wangwu", "王五"), department="d-tech")
    sync.run_sync("ldap", [DirectoryDepartment("d-tech", "技术部")], [person])
    report = sync.run_sync("ldap", [DirectoryDepartment("d-tech", "技术中心")], [person])
    assert report.departments_renamed == [("技术部", "技术中心")]
    db.session.expire_all()
    assert tech.name == "技术中心" and r.late.department_id == tech.id  # one department, renamed
    assert "技术部" in version.body and "技术中心" not in version.body
    assert [a["owner_department"] for a in json.loads(version.actions_json)][0] == "技术部"
    login_as(r.late)
    page = client.get(f"/minutes/versions/{version.id}").get_data(as_text=True)
    assert "技术部增配1名投诉值班工程师" in page
    table = page[page.index("技术部增配1名投诉值班工程师"):][:600]
    assert "技术中心" not in table
    # what is still live, not a record: the meeting's own pages show today's name
    assert "技术中心" in client.get(f"/meetings/{r.meeting.id}").get_data(as_text=True)
