"""Import every domain's models so metadata (and Alembic) sees all tables."""
from minutes.actions.models import (ActionItem, ActionReview, ActionUpdate, CalendarFeed,  # noqa: F401
                                    ReminderLog, ReminderSettings)
from minutes.api.models import ApiToken  # noqa: F401
from minutes.archive.models import ArchiveEntry, SearchBlock  # noqa: F401
from minutes.audit.models import AuditEntry  # noqa: F401
from minutes.calendar.models import CalendarOverride  # noqa: F401
from minutes.chat.models import ChatCalendarEvent, ChatCallback, ChatCard  # noqa: F401
from minutes.identity.models import ExternalDepartment, ExternalIdentity  # noqa: F401
from minutes.meetings.models import AgendaItem, Material, Meeting, MeetingSeries, Participant  # noqa: F401
from minutes.notify.models import JobLock, OutboxMessage, WebhookBot  # noqa: F401
from minutes.people.models import Department, User  # noqa: F401
from minutes.records.models import Minutes, MinutesRecipient, MinutesRequest, MinutesResponse, MinutesVersion  # noqa: F401
from minutes.room.models import Attendance, Decision, ItemClock, Point, RoomState  # noqa: F401
from minutes.transcripts.models import Suggestion, Transcript, TranscriptLine  # noqa: F401
