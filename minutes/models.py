"""Import every domain's models so metadata (and Alembic) sees all tables."""
from minutes.admin.models import CalendarOverride  # noqa: F401
from minutes.api.models import ApiToken  # noqa: F401
from minutes.meetings.models import AgendaItem, Material, Meeting, Participant  # noqa: F401
from minutes.notify.models import OutboxMessage  # noqa: F401
from minutes.people.models import Department, User  # noqa: F401
