"""Request-level checks of small things every page shares: the tab icon, one <main>, file sizes, search advice."""
import io

from minutes.core.sizes import human_size
from minutes.extensions import db
from minutes.meetings import service
from minutes.meetings.models import AgendaItem


def test_favicon_is_served_without_login(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200
    assert r.data[:4] == b"\x00\x00\x01\x00"  # an ICO file, not the login page


def test_small_files_are_not_shown_as_zero_kb():
    assert human_size(13) == "13 B"
    assert human_size(1536) == "1.5 KB"
    assert human_size(3 * 1024 * 1024) == "3.0 MB"


def test_uploaded_material_keeps_the_title_given(client, login_as, make_user, make_meeting):
    host = login_as(make_user("zhaomin", dept="客服部"))
    meeting = make_meeting(host)
    item = service.add_agenda_item(host, meeting, "数据报表", 20)
    db.session.commit()
    r = client.post(f"/agenda/{item.id}/materials", headers={"HX-Request": "true"}, content_type="multipart/form-data",
                    data={"file": (io.BytesIO(b"%PDF-1.4 tiny"), "scan_0001.pdf"), "title": "三季度投诉报表"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "三季度投诉报表" in html and "13 B" in html and "0 KB" not in html
    assert [m.name for m in db.session.get(AgendaItem, item.id).materials] == ["三季度投诉报表"]
