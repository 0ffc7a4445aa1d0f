"""A meeting's imported transcript (会议转写稿), its lines, and the entries the rules suggest from it."""
import enum
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from minutes.dbtypes import UTCDateTime, str_enum, utcnow
from minutes.extensions import db
from minutes.meetings.models import AgendaItem, Meeting
from minutes.people.models import Department, User


class SuggestionKind(enum.StrEnum):
    """What a suggestion would become in the record."""

    DECISION = "decision"
    ACTION = "action"
    DISPUTE = "dispute"
    CONSENSUS = "consensus"
    #: a department's viewpoint (观点); only the company's model proposes these
    VIEWPOINT = "viewpoint"

    @property
    def label(self) -> str:
        return {SuggestionKind.DECISION: gettext("决议"), SuggestionKind.ACTION: gettext("待办"),
                SuggestionKind.DISPUTE: gettext("争议"),
                SuggestionKind.CONSENSUS: gettext("共识"), SuggestionKind.VIEWPOINT: gettext("观点")}[self]


class SuggestionOrigin(enum.StrEnum):
    """Who proposed a suggestion: the transcript rules, or the company's own model (checked by the same rules)."""

    RULES = "rules"
    MODEL = "model"

    @property
    def label(self) -> str:
        return {SuggestionOrigin.RULES: gettext("规则建议"), SuggestionOrigin.MODEL: gettext("模型建议")}[self]


class SuggestionStatus(enum.StrEnum):
    """Where a suggestion stands: waiting for the recorder, taken into the record, or dropped."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        return {SuggestionStatus.OPEN: gettext("待处理"), SuggestionStatus.ACCEPTED: gettext("已采纳"),
                SuggestionStatus.DROPPED: gettext("已忽略")}[self]


class Transcript(db.Model):
    """One imported transcript of a meeting (a meeting may have several: a re-import adds one)."""

    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    #: "text", "srt", "vtt" or "docx": the reader that understood the file
    format: Mapped[str] = mapped_column(String(10))
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the company model's first draft of the formal minutes' summary ("" until the model was asked)
    model_summary: Mapped[str] = mapped_column(Text, default="", server_default="")

    meeting: Mapped[Meeting] = relationship()
    imported_by: Mapped[User] = relationship()
    lines: Mapped[list["TranscriptLine"]] = relationship(
        back_populates="transcript", order_by="TranscriptLine.index", cascade="all, delete-orphan")
    suggestions: Mapped[list["Suggestion"]] = relationship(
        back_populates="transcript", order_by="Suggestion.id", cascade="all, delete-orphan")


class TranscriptLine(db.Model):
    """One turn of speech: who said it (as written, and the invited person it was matched to), when, what."""

    __tablename__ = "transcript_line"
    __table_args__ = (Index("ix_transcript_line_transcript_index", "transcript_id", "index", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id", ondelete="CASCADE"))
    #: the transcript's meeting, here too so the archive indexes the lines as it does points and decisions
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    #: 0-based position in the transcript; suggestions name their lines by it
    index: Mapped[int] = mapped_column(Integer)
    #: seconds from the start of the recording, when the export has time stamps
    seconds: Mapped[int | None] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(80), default="")
    #: the invited person the speaker was matched to by name
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: the agenda item under discussion at this line (read from the talk: "下面看第二个议题…")
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)

    transcript: Mapped[Transcript] = relationship(back_populates="lines")
    user: Mapped[User | None] = relationship()

    @property
    def clock(self) -> str:
        if self.seconds is None:
            return ""
        h, rest = divmod(self.seconds, 3600)
        return f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}"


class Suggestion(db.Model):
    """An entry the rules propose from transcript lines; it reaches the record only when the recorder accepts it."""

    __tablename__ = "transcript_suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_item.id", ondelete="SET NULL"))
    kind: Mapped[SuggestionKind] = mapped_column(str_enum(SuggestionKind))
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    #: the department of a consensus/decision/action owner, or the first party of a dispute
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    #: comma-separated department ids: the parties of a dispute
    party_ids: Mapped[str] = mapped_column(String(200), default="")
    #: the deadline phrase as said ("6月30日前", "3个工作日内"), read again when accepted
    due: Mapped[str] = mapped_column(String(100), default="")
    #: what the recorder must fix before it can be accepted, as codes: "no_owner,vague:尽快|抓紧,no_due"
    #: (transcripts.service.problem_message says it in words)
    problem: Mapped[str] = mapped_column(Text, default="")
    #: comma-separated indexes of the transcript lines it came from
    line_indexes: Mapped[str] = mapped_column(String(200))
    status: Mapped[SuggestionStatus] = mapped_column(str_enum(SuggestionStatus), default=SuggestionStatus.OPEN)
    origin: Mapped[SuggestionOrigin] = mapped_column(str_enum(SuggestionOrigin, length=10), default=SuggestionOrigin.RULES,
                                                     server_default=SuggestionOrigin.RULES.value)
    #: the record entry it became: "decision:12", "action:7", "point:31"
    entry_key: Mapped[str | None] = mapped_column(String(40))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    transcript: Mapped[Transcript] = relationship(back_populates="suggestions")
    agenda_item: Mapped[AgendaItem | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    department: Mapped[Department | None] = relationship()

    @property
    def lines(self) -> list[int]:
        return [int(i) for i in self.line_indexes.split(",") if i]

    @property
    def parties(self) -> list[int]:
        return [int(i) for i in self.party_ids.split(",") if i]
