"""Fixtures shared by tests/notify and tests/actions: fake robots on loopback, an SMTP outage, factories."""
import socket
from datetime import date, datetime

import pytest

from minutes.extensions import db
from tests.notify.vendors import FakeRobots


@pytest.fixture(scope="session")
def _robot_server():
    server = FakeRobots()
    yield server
    server.stop()


@pytest.fixture
def robots(_robot_server):
    """The fake vendors' robots, emptied for each test (and back online)."""
    _robot_server.robots.clear()
    _robot_server.fail_with_500 = False
    yield _robot_server
    _robot_server.robots.clear()
    _robot_server.fail_with_500 = False


@pytest.fixture
def smtp_down(app):
    """Point the app at a port where no mail server listens; call .up() to restore it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    real = app.config["SMTP_PORT"]

    class Switch:
        def down(self):
            app.config["SMTP_PORT"] = closed

        def up(self):
            app.config["SMTP_PORT"] = real

    switch = Switch()
    switch.down()
    yield switch
    switch.up()


@pytest.fixture
def make_bot(app):
    """Add a department's group robot: make_bot(user_or_admin, dept_id, "dingtalk", url, secret)."""
    from minutes.notify.bots import create_bot

    def factory(admin, department_id, vendor, url, secret="", name=None, per_minute=None):
        bot = create_bot(admin, department_id, vendor, name or f"{vendor}群", url, secret, per_minute)
        db.session.commit()
        return bot

    return factory


@pytest.fixture
def make_action(app):
    """Record a confirmed action item on a meeting (as the room would after the end-of-meeting review)."""
    from minutes.actions.models import ActionItem, ActionStatus
    from minutes.core.timefmt import utcnow
    from minutes.meetings.models import AgendaItem

    def factory(meeting, owner, due: date, text="整理投诉分级标准并发给各部门确认", confirmed=True, created_at=None,
                status=ActionStatus.NOT_STARTED, cooperating=()):
        item = meeting.agenda_items[0] if meeting.agenda_items else None
        if item is None:
            item = AgendaItem(meeting=meeting, position=1, title="投诉处理流程", minutes=30)
            db.session.add(item)
            db.session.flush()
        created = created_at or utcnow()
        action = ActionItem(meeting_id=meeting.id, agenda_item=item, text=text, owner_department=owner.department,
                            owner=owner, due_date=due, due_text="", status=status, position=1,
                            cooperating_departments=list(cooperating), created_by=meeting.created_by,
                            created_at=created, confirmed_at=created if confirmed else None,
                            confirmed_by=meeting.created_by if confirmed else None)
        db.session.add(action)
        db.session.commit()
        return action

    return factory


def local(*args) -> datetime:
    from minutes.core.timefmt import LOCAL_TZ

    return datetime(*args, tzinfo=LOCAL_TZ)
