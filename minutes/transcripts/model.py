"""The company's own model (an OpenAI-compatible server: vLLM, Ollama...) asked for suggestions from a transcript.

No database and no Flask here: the caller hands over the settings and what the meeting said, reads the
streamed answer piece by piece (to show progress), then has `read_answer` validate it. An answer that is
not exactly the JSON asked for is refused whole, never half-used; what passes is still only a proposal
that `minutes.transcripts.service` runs through the same rules as the rule-based suggestions.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import jsonschema
import openai

KINDS = ("decision", "action", "dispute", "consensus", "point")


@dataclass(frozen=True)
class ModelSettings:
    """Where the model is and how long to wait for it."""

    url: str
    model: str
    key: str = ""
    timeout: float = 60.0
    retries: int = 1
    allow_confidential: bool = False
    max_chars: int = 60000

    @classmethod
    def from_config(cls, config) -> ModelSettings | None:
        """The settings, or None while no model is configured (the feature is then hidden)."""
        url, model = (config.get("ASSIST_MODEL_URL") or "").strip(), (config.get("ASSIST_MODEL") or "").strip()
        if not url or not model:
            return None
        return cls(url, model, config.get("ASSIST_MODEL_KEY") or "", float(config.get("ASSIST_TIMEOUT") or 60),
                   int(config.get("ASSIST_RETRIES") or 0), bool(config.get("ASSIST_ALLOW_CONFIDENTIAL")),
                   int(config.get("ASSIST_MAX_CHARS") or 60000))


class ModelUnavailable(Exception):
    """The model could not be reached, timed out, or answered with an HTTP error."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason, self.status = reason, status

    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    HTTP_ERROR = "http_error"


class AnswerRefused(Exception):
    """The model's answer is not the JSON asked for (or is cut off); `detail` says where, for the log and the page."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail

    NOT_JSON = "not_json"
    WRONG_SHAPE = "wrong_shape"
    CUT_OFF = "cut_off"
    EMPTY = "empty"


@dataclass
class Entry:
    """One entry the model proposes, as it said it (1-based line and agenda numbers)."""

    kind: str
    text: str
    lines: list[int]
    owner: str = ""
    departments: list[str] = field(default_factory=list)
    due: str = ""
    agenda_item: int | None = None


@dataclass
class Answer:
    """The validated answer: the entries and the first draft of the minutes' summary."""

    summary: str
    entries: list[Entry]


# --- the question ----------------------------------------------------------------------------

SYSTEM_PROMPT = """你是企业跨部门会议的记录助手。根据会议转写稿，整理出记录人应写入会议记录的条目，并起草正式会议纪要的摘要。
只回答一个JSON对象，不要任何其他文字，格式：
{"summary": "会议摘要初稿（300字以内）",
 "entries": [{"kind": "decision|action|dispute|consensus|point",
              "text": "条目内容，书面语",
              "owner": "负责人姓名（待办、决议必填，其他可为空字符串）",
              "departments": ["相关部门名称：争议写双方部门，观点写提出部门，待办写配合部门"],
              "due": "完成时限原话，如“6月30日前”“3个工作日内”，没有说就写空字符串",
              "agenda_item": 议题序号（整数）或 null,
              "lines": [来源发言的序号（整数）]}]}
kind 含义：decision 决议，action 待办（有人负责、有时限），dispute 争议（两个部门意见不一致），consensus 共识，point 部门观点。
不要编造转写稿中没有的内容；时限照原话写，不要自行换算日期。"""


def build_messages(topic: str, agenda: Sequence[tuple[int, str]], people: Sequence[tuple[str, str]],
                   lines: Sequence[tuple[int, str, str]]) -> list[dict]:
    """The chat messages: the instructions, then the meeting (agenda, people, numbered lines)."""
    parts = [f"会议主题：{topic}", "议题："]
    parts += [f"{number}. {title}" for number, title in agenda] or ["（无）"]
    parts.append("参会人员：" + "；".join(f"{name}（{dept}）" for name, dept in people))
    parts.append("转写稿（序号 发言人：内容）：")
    parts += [f"{number} {speaker}：{text}" for number, speaker, text in lines]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n".join(parts)}]


def question_size(messages: list[dict]) -> int:
    """How many characters the question has (what the model's context window must hold besides its answer)."""
    return sum(len(m["content"]) for m in messages)


# --- the call --------------------------------------------------------------------------------

@dataclass
class Progress:
    """So many characters of the answer have arrived."""

    received: int


@dataclass
class Finished:
    """The whole answer text, and why the model stopped ("stop", "length"...)."""

    text: str
    finish_reason: str | None


def client_for(settings: ModelSettings) -> openai.OpenAI:
    """The maintained client, with the deployment's timeout and retries (the key may be empty: local servers)."""
    return openai.OpenAI(base_url=settings.url, api_key=settings.key or "not-needed", timeout=settings.timeout,
                         max_retries=settings.retries)


def stream_answer(settings: ModelSettings, messages: list[dict]) -> Iterator[Progress | Finished]:
    """Ask the model with `stream=True`: a `Progress` per piece received, then one `Finished`.
    Raises `ModelUnavailable` when the server cannot be reached, times out or answers with an error."""
    pieces: list[str] = []
    received = 0
    finish_reason = None
    try:
        with client_for(settings) as client:
            stream = client.chat.completions.create(
                model=settings.model, messages=messages, stream=True, temperature=0.1,
                response_format={"type": "json_object"})
            with stream:
                for chunk in stream:
                    for choice in chunk.choices:
                        piece = choice.delta.content if choice.delta else None
                        if piece:
                            pieces.append(piece)
                            received += len(piece)
                            yield Progress(received)
                        if choice.finish_reason:
                            finish_reason = choice.finish_reason
    except openai.APITimeoutError:
        raise ModelUnavailable(ModelUnavailable.TIMEOUT) from None
    except openai.APIConnectionError:
        raise ModelUnavailable(ModelUnavailable.UNREACHABLE) from None
    except openai.APIStatusError as exc:
        raise ModelUnavailable(ModelUnavailable.HTTP_ERROR, exc.status_code) from None
    yield Finished("".join(pieces), finish_reason)


# --- the answer ------------------------------------------------------------------------------

_TEXT = {"type": "string", "maxLength": 2000}
ANSWER_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "entries"],
    "properties": {
        "summary": {"type": "string", "maxLength": 5000},
        "entries": {
            "type": "array",
            "maxItems": 300,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind", "text", "lines"],
                "properties": {
                    "kind": {"enum": list(KINDS)},
                    "text": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": r"\S"},
                    "owner": {"type": ["string", "null"], "maxLength": 80},
                    "departments": {"type": "array", "items": {"type": "string", "maxLength": 80}, "maxItems": 10},
                    "due": {"type": ["string", "null"], "maxLength": 100},
                    "agenda_item": {"type": ["integer", "null"]},
                    "lines": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1,
                              "maxItems": 30},
                },
            },
        },
    },
}
_THINKING = re.compile(r"^\s*<think>.*?</think>", re.S)  # reasoning models (DeepSeek-R1, Qwen3) think aloud first
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*)\n\s*```\s*$", re.S)


def read_answer(text: str, finish_reason: str | None, line_count: int, item_count: int) -> Answer:
    """Validate the model's answer exactly; refuse it whole (`AnswerRefused`) if anything is off: not JSON, a key
    missing or unknown, a wrong type, a line or agenda number that does not exist, or an answer cut off."""
    if finish_reason == "length":
        raise AnswerRefused(AnswerRefused.CUT_OFF, "finish_reason=length")
    text = _THINKING.sub("", text or "", count=1).strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if not text:
        raise AnswerRefused(AnswerRefused.EMPTY)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise AnswerRefused(AnswerRefused.NOT_JSON, str(exc)) from None
    try:
        jsonschema.validate(data, ANSWER_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise AnswerRefused(AnswerRefused.WRONG_SHAPE, f"{where}: {exc.message}") from None
    entries = []
    for n, raw in enumerate(data["entries"]):
        lines = raw["lines"]
        if any(i > line_count for i in lines):
            raise AnswerRefused(AnswerRefused.WRONG_SHAPE, f"entries/{n}/lines: no line {max(lines)}")
        item = raw.get("agenda_item")
        if item is not None and not 1 <= item <= item_count:
            raise AnswerRefused(AnswerRefused.WRONG_SHAPE, f"entries/{n}/agenda_item: no item {item}")
        entries.append(Entry(raw["kind"], raw["text"].strip(), sorted(set(lines)), (raw.get("owner") or "").strip(),
                             [d.strip() for d in raw.get("departments") or [] if d.strip()],
                             (raw.get("due") or "").strip(), item))
    return Answer(data["summary"].strip(), entries)
