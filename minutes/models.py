"""Import every domain's models so metadata (and Alembic) sees all tables."""
from minutes.actions.models import ActionItem  # noqa: F401
from minutes.admin.models import CalendarOverride  # noqa: F401
from minutes.api.models import ApiToken  # noqa: F401
from minutes.audit.models import AuditEntry  # noqa: F401
from minutes.meetings.models import AgendaItem, Material, Meeting, Participant  # noqa: F401
from minutes.notify.models import OutboxMessage  # noqa: F401
from minutes.people.models import Department, User  # noqa: F401
from minutes.room.models import Attendance, Decision, ItemClock, Point, RoomState  # noqa: F401
