"""flask minutes backup / restore: a round trip brings back exactly what was there."""
from sqlalchemy import select

from minutes.extensions import db
from minutes.meetings.models import Meeting


def test_backup_then_restore_round_trip(app, runner, make_user, make_meeting, tmp_path):
    host = make_user("zhaomin", dept="客服部")
    make_meeting(host, topic="备份前的会议")
    target = tmp_path / "backups" / "minutes.bak"
    result = runner.invoke(args=["minutes", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and target.stat().st_size > 0

    make_meeting(host, topic="备份后新建的会议")
    db.session.get(Meeting, 1)
    first = db.session.scalar(select(Meeting).where(Meeting.topic == "备份前的会议"))
    first.topic = "被改掉的主题"
    db.session.commit()

    refused = runner.invoke(args=["minutes", "restore", str(target)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = runner.invoke(args=["minutes", "restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    topics = sorted(db.session.scalars(select(Meeting.topic)))
    assert topics == ["备份前的会议"]


def test_restore_of_a_missing_file_is_refused(runner, app):
    result = runner.invoke(args=["minutes", "restore", "/nonexistent/x.bak", "--yes"])
    assert result.exit_code != 0 and "不存在" in result.output
