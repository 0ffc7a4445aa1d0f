"""Once a meeting is final or cancelled its people cannot change: the page offers no controls the server refuses."""
from minutes.extensions import db
from minutes.meetings import service


def test_a_cancelled_meetings_people_panel_has_no_edit_controls(client, make_user, make_meeting, login_as):
    host = login_as(make_user("closehost"))
    meeting = make_meeting(creator=host)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'id="invite-form"' in page and 'name="role"' in page  # while planning: invite and change roles

    service.cancel_meeting(host, meeting)
    db.session.commit()
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'id="invite-form"' not in page and 'name="role"' not in page and "移除" not in page
    assert "参会人员" in page  # the people are still listed, read-only
    participant = meeting.participants[0]
    refused = client.post(f"/participants/{participant.id}/role", data={"role": "participant"},
                          headers={"HX-Request": "true"})
    assert refused.status_code == 409
