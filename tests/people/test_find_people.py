"""Finding people to invite across departments by name, pinyin or initials."""
from minutes.extensions import db
from minutes.people.service import find_people


def _names(query):
    return [u.name for u in find_people(query)]


def test_people_are_found_by_name_pinyin_initials_and_username(make_user):
    make_user("zhangwei", "张伟", dept="技术部")
    make_user("zhangwei2", "张薇", dept="财务部")
    make_user("zhaomin", "赵敏", dept="客服部")
    make_user("ouyang", "欧阳娜娜", dept="市场部")
    make_user("shan.tf", "单田芳", dept="法务部")
    make_user("lily", "Lily Wang", dept="市场部")
    assert _names("张伟") == ["张伟"]
    assert set(_names("zw")) == {"张伟", "张薇"}
    assert _names("zhaom") == ["赵敏"]
    assert _names("oynn") == ["欧阳娜娜"]
    assert _names("shantianfang") == ["单田芳"]  # a surname read as shan, not only dan
    assert _names("lw") == ["Lily Wang"]
    assert _names("Zhao Min") == ["赵敏"]  # spaces and case do not matter
    assert _names("") == [] and _names("   ") == []
    assert set(_names("张")) == {"张伟", "张薇"}


def test_disabled_people_are_not_offered(make_user):
    gone = make_user("zhangwei", "张伟", dept="技术部")
    gone.is_enabled = False
    db.session.commit()
    assert _names("zw") == []


def test_picker_keeps_the_ticked_people_while_searching(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", "赵敏", dept="客服部"))
    tech = make_user("zhangwei", "张伟", dept="技术部")
    make_user("lisi", "李四", dept="财务部")
    meeting = make_meeting(host)
    html = client.get(f"/meetings/{meeting.id}/department-people",
                      query_string={"q": "ls", "user_ids": [str(tech.id)]}).get_data(as_text=True)
    assert html.index("张伟") < html.index("李四")
    assert f'value="{tech.id}" checked' in html and "技术部" in html and "财务部" in html
    nothing = client.get(f"/meetings/{meeting.id}/department-people", query_string={"q": "qqq"}).get_data(as_text=True)
    assert "没有找到“qqq”" in nothing
