"""Rules that read a transcript and propose record entries: decisions, actions, disputes, consensus.

No model and no database: the caller hands over the lines, the meeting's people and a `read_due`
function (the room's own deadline and vague-wording check, `minutes.room.wording.check_wording`), so a
date said in the meeting is read exactly as a typed one would be. Every proposal names the lines it came
from; none of them is a record entry until the recorder accepts it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Person:
    """Someone invited to the meeting, as the rules need them."""

    id: int
    name: str
    department_id: int
    department_name: str


@dataclass
class Said:
    """A transcript line as the rules read it."""

    index: int
    speaker: str
    person: Person | None
    text: str
    agenda_item_id: int | None = None


@dataclass
class DueReading:
    """What the room's check made of a text: the deadline phrase and date, and the vague terms."""

    phrase: str = ""
    due: date | None = None
    vague: list[str] = field(default_factory=list)


@dataclass
class Proposal:
    """A suggested entry; `problems` are codes the recorder must resolve before accepting."""

    kind: str
    text: str
    lines: list[int]
    agenda_item_id: int | None = None
    owner: Person | None = None
    department_id: int | None = None
    party_ids: list[int] = field(default_factory=list)
    due: str = ""
    due_date: date | None = None
    vague: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: a department named as responsible ("由技术部…"), matched to a department id by the caller
    department_name: str = ""


# --- people ----------------------------------------------------------------------------------

_DEPT_SUFFIX = re.compile(r"\s*[(（]([^)）]{1,20})[)）]\s*$")
_TITLED = r"(?:经理|总监|总|工|主任|部长|老师|姐|哥)"


def match_person(speaker: str, people: Sequence[Person]) -> Person | None:
    """The invited person a speaker label names: 张伟, 张伟(产品部), 张伟-产品部, 张经理/张总/老张 when the
    surname is unique among the invited. "说话人 1" and unknown names match nobody."""
    label = (speaker or "").strip()
    dept = None
    m = _DEPT_SUFFIX.search(label)
    if m:
        dept, label = m.group(1).strip(), label[:m.start()].strip()
    label = re.split(r"[-－—·|｜/]", label)[0].strip() if not any(p.name == label for p in people) else label
    same = [p for p in people if p.name == label]
    if len(same) > 1 and dept:
        same = [p for p in same if p.department_name == dept] or same
    if same:
        return same[0]
    titled = re.fullmatch(rf"(?:老|小)?(\w){_TITLED}?", label) if len(label) <= 4 else None
    if titled and len(label) > 1:
        surname = titled.group(1)
        hits = [p for p in people if p.name.startswith(surname)]
        if len(hits) == 1:
            return hits[0]
    return None


def _named_people(text: str, people: Sequence[Person]) -> list[tuple[int, Person]]:
    """People named in a text (full name, or 张经理/张总/老张 for a unique surname), by position."""
    found: dict[int, tuple[int, Person]] = {}
    for person in people:
        pos = text.find(person.name)
        if pos >= 0:
            found[person.id] = (pos, person)
    for m in re.finditer(rf"(?:老|小)(\w)|(\w){_TITLED}", text):
        surname = m.group(1) or m.group(2)
        hits = [p for p in people if p.name.startswith(surname)]
        if len(hits) == 1 and hits[0].id not in found:
            found[hits[0].id] = (m.start(), hits[0])
    return sorted(found.values(), key=lambda pair: pair[0])


# --- wording ---------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]?")
_FILLER = re.compile(r"^(?:好的?|嗯+|呃+|啊|那么?|OK|ok|行|对|是的|这样吧|那就|那我们|我们|所以|最后|总之|就是)[，,、\s]*")
_QUESTION = re.compile(r"[？?]\s*$|吗[。\s]*$|是否|能不能|可不可以|要不要|谁来|谁负责")
_NEGATED_DECISION = re.compile(r"(?:不|没|未|待|再|还没|没有)(?:能)?(?:确定|决定|同意|拍板|定)")

_DECISION = re.compile(r"决定|确定(?!一下)|拍板|定了|就这么定|就这样定|就按|同意(?:这个|该|按|采用|.{0,6}方案)|批准|原则上同意|"
                       r"结论是|统一(?:按|采用|使用)|以后(?:一律|统一)")
_ACTION_CUE = re.compile(r"负责|牵头|跟进|落实|(?:前|之前|以前|以内|之内|内)(?:完成|提交|输出|给|发|提供|反馈|回复|上线|整理|交|出)|"
                         r"来(?:做|出|整理|对接|写|改|排查|准备)|安排(?:一下)?|我这边")
_COMMIT = re.compile(r"完成|提交|输出|给出|发出|发给|提供|反馈|上线|整理|交付|出一版|出方案|做|改|写|准备|排查|对接|评估|确认|梳理")
_DISAGREE = re.compile(r"不同意|反对|不认可|(?<![没无])有异议|不能接受|接受不了|不赞成|不太同意|不认同|不太认同|保留意见|做不到|不现实|不合理")
_BUT = re.compile(r"^(?:但是|可是|不过|问题是)")
_CONSENSUS = re.compile(r"一致|达成共识|形成共识|都同意|没有异议|都认可|也认可|大家没意见|没有不同意见")
_NOT_CONSENSUS = re.compile(r"不一致|没有达成|未达成|没达成|还没有?共识|无法达成")
_SELF = re.compile(r"(?:^|[，,。；])\s*(?:那|好的?[，,]?|行[，,]?|可以[，,]?)?我(?!们|觉得|认为|看|想|建议|担心|同意|不)|"
                   r"我来|我负责|我这边|我们这边|我们部门|我们来|我去|我会")
#: a person named after these is who receives or helps, not who does it: "7月3日前发给赵敏"
_RECIPIENT = re.compile(r"(?:给|向|跟|和|与|同|配合)$")
_AGREE = re.compile(r"^(?:好的?|嗯)?[，,]?(?:我|我们)?(?:也)?(?:同意|可以|没问题|行|赞成)")
_TAG_QUESTION = re.compile(r"[，,]?\s*(?:大家)?(?:一致)?(?:同意吧|看行不行|行不行|可以吗|好不好|怎么样|同意吗|有没有问题)[？?]\s*$")
_LEAD_IN = re.compile(r"^(?:那就|就|那|那我们|我们)?(?:定了|这么定|这样定|确定下来|决定|最后决定|结论是)[：:，,]\s*")


def clean(text: str) -> str:
    """A sentence as a recorder would write it: fillers at the start and a trailing particle dropped."""
    text = text.strip()
    for _ in range(3):
        text = _FILLER.sub("", text).strip()
        text = _LEAD_IN.sub("", text).strip()
    text = re.sub(r"[吧啊哈呀嘛哦]+([。！!]?)$", r"\1", text)
    return text.rstrip("，,、 ")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


# --- the rules -------------------------------------------------------------------------------

def _action(said: Said, people: Sequence[Person], read_due: Callable[[str], DueReading]) -> Proposal | None:
    text = said.text
    if _QUESTION.search(text) and "负责" not in text:
        return None
    if re.search(r"不(?:是我|归我|由我)负责|没人负责|谁(?:来)?负责", text):
        return None
    reading = read_due(text)
    self_claim = _SELF.search(text)
    if not _ACTION_CUE.search(text) and not (self_claim and reading.due):
        return None
    named = [(pos, p) for pos, p in _named_people(text, people) if not _RECIPIENT.search(text[max(0, pos - 2):pos])]
    owner = None
    m = re.search(r"由(.{1,8}?)(?:来)?(?:负责|牵头)|请(.{1,6}?)(?:在|于|来|牵头|负责|把|同步)|(\S{1,6}?)(?:负责|牵头|来做|来出|跟进)", text)
    if m:
        near = _named_people(m.group(0), people)
        owner = near[-1][1] if near else None
    if owner is None and said.person is not None:
        dept = re.search(r"(\S{1,8}部)(?:来|这边)?(?:负责|牵头)", text)
        if dept and dept.group(1).endswith(said.person.department_name):  # "质量部来负责" said by 质量部's 何琳
            owner = said.person
    if owner is None and self_claim and re.search(r"我来|我负责|我去", text):
        owner = said.person
    if owner is None and named:
        owner = named[0][1]
    if owner is None and self_claim:
        owner = said.person
    has_date = reading.due is not None or bool(reading.vague)
    if owner is None:
        # a department ("由技术部…") or nobody: a decision, or talk about who might do it, not an action yet
        return None
    if not has_date and "负责" not in text and "牵头" not in text:
        return None
    sentences = _sentences(text)
    body = "".join(s for s in sentences if _ACTION_CUE.search(s) or _COMMIT.search(s) or read_due(s).due) or text
    body = clean(body)
    if owner is not None and owner == said.person:
        body = re.sub(r"^(?:那|好的?[，,]?)?我(?:这边)?(?:来)?", owner.name, body, count=1)
    proposal = Proposal("action", body, [said.index], said.agenda_item_id, owner=owner,
                        department_id=owner.department_id if owner else None, due=reading.phrase,
                        due_date=reading.due, vague=reading.vague)
    if owner is None:
        proposal.problems.append("no_owner")
    if reading.vague:
        proposal.problems.append("vague")
    elif reading.due is None:
        proposal.problems.append("no_due")
    return proposal


def _decisions(said: Said, read_due: Callable[[str], DueReading]) -> list[Proposal]:
    found = []
    for sentence in _sentences(said.text):
        if not _DECISION.search(sentence) or _NEGATED_DECISION.search(sentence) or _QUESTION.search(sentence):
            continue
        if _DISAGREE.search(sentence):
            continue
        reading = read_due(sentence)
        owner_dept = re.search(r"由(\S{1,8}?部)", sentence)
        proposal = Proposal("decision", clean(sentence), [said.index], said.agenda_item_id, vague=reading.vague,
                            due=reading.phrase, due_date=reading.due)
        proposal.department_name = owner_dept.group(1) if owner_dept else ""
        if reading.vague:
            proposal.problems.append("vague")
        found.append(proposal)
    return found


def _consensus(said: Said) -> list[Proposal]:
    found = []
    for sentence in _sentences(said.text):
        if _CONSENSUS.search(sentence) and not _NOT_CONSENSUS.search(sentence) and not _QUESTION.search(sentence) \
                and not _DECISION.search(sentence):
            found.append(Proposal("consensus", clean(sentence), [said.index], said.agenda_item_id))
    return found


def _agreed_proposal(said: Said, after: Sequence[Said]) -> Proposal | None:
    """"以后统一按有效线索口径统计，大家一致同意吧？" — "同意。" — "同意。": a decision, in the proposer's words."""
    for sentence in _sentences(said.text):
        if not _TAG_QUESTION.search(sentence):
            continue
        replies = [a for a in after if a.person is not None and a.person != said.person and len(a.text) <= 15]
        if replies and all(_AGREE.search(a.text) for a in replies):
            text = clean(_TAG_QUESTION.sub("", sentence))
            if len(text) >= 6:
                return Proposal("decision", text, [said.index] + [a.index for a in replies], said.agenda_item_id)
    return None


def _dispute(said: Said, earlier: Sequence[Said]) -> Proposal | None:
    if said.person is None or _NOT_CONSENSUS.search(said.text) is None and not (
            _DISAGREE.search(said.text) or (_BUT.search(said.text) and re.search(r"不|没|难", said.text))):
        return None
    if _QUESTION.search(said.text) and not _DISAGREE.search(said.text):
        return None
    other = next((e for e in reversed(earlier[-4:]) if e.person and e.person.department_id != said.person.department_id
                  and e.agenda_item_id == said.agenda_item_id), None)
    if other is None:
        return None
    mine = next((s for s in _sentences(said.text) if _DISAGREE.search(s) or _BUT.search(s) or _NOT_CONSENSUS.search(s)),
                said.text)
    text = f"{other.person.department_name}：{clean(_sentences(other.text)[0] if other.text else '')}；" \
           f"{said.person.department_name}：{clean(mine)}"
    return Proposal("dispute", text, [other.index, said.index], said.agenda_item_id,
                    department_id=other.person.department_id,
                    party_ids=[other.person.department_id, said.person.department_id])


def propose(lines: Sequence[Said], people: Sequence[Person], read_due: Callable[[str], DueReading]) -> list[Proposal]:
    """All suggestions for a transcript, in the order of the lines they come from."""
    proposals: list[Proposal] = []
    last_dispute: Proposal | None = None
    last_action: Proposal | None = None
    for i, said in enumerate(lines):
        action = _action(said, people, read_due)
        if action:
            proposals.extend(d for d in _decisions(said, read_due) if not _ACTION_CUE.search(d.text)
                             and not read_due(d.text).due)
        agreed = _agreed_proposal(said, lines[i + 1:i + 3])
        if agreed:
            proposals.append(agreed)
        if action and last_action and action.owner == last_action.owner and action.due_date == last_action.due_date \
                and action.agenda_item_id == last_action.agenda_item_id and said.index - last_action.lines[-1] <= 2:
            last_action.lines.append(said.index)  # "刘洋你牵头，6月30日前…" — "好的，我来负责，6月30日前…"
        elif action and last_action and action.owner == last_action.owner and last_action.problems \
                and action.due_date and action.agenda_item_id == last_action.agenda_item_id \
                and said.index - last_action.lines[-1] <= 3:
            # "我来排查，尽快给结论" — "尽快不行，给个日期" — "那我7月3日前提交": one action, with the date
            action.lines = last_action.lines + action.lines
            action.text = f"{last_action.text}；{action.text}" if "no_due" in last_action.problems else action.text
            proposals[proposals.index(last_action)] = action
            last_action = action
        elif action:
            proposals.append(action)
            last_action = action
        else:
            proposals.extend(_decisions(said, read_due))
            for consensus in _consensus(said):
                earlier = next((p for p in reversed(proposals) if p.kind == "consensus"), None)
                if earlier and earlier.agenda_item_id == consensus.agenda_item_id \
                        and said.index - earlier.lines[-1] <= 3:
                    # "市场部没有异议" — "销售部也认可" — "这点大家达成共识": one consensus, in its last words
                    earlier.lines.append(said.index)
                    earlier.text = consensus.text
                else:
                    proposals.append(consensus)
        dispute = _dispute(said, lines[max(0, i - 4):i])
        if dispute and _NOT_CONSENSUS.search(said.text) and not _DISAGREE.search(said.text):
            # "今天没有达成一致" names no new party: it extends the dispute already noted, or nothing
            if last_dispute and last_dispute.agenda_item_id == said.agenda_item_id:
                last_dispute.lines = sorted(set(last_dispute.lines) | {said.index})
            dispute = None
        if dispute:
            if (last_dispute and set(last_dispute.party_ids) == set(dispute.party_ids)
                    and last_dispute.agenda_item_id == dispute.agenda_item_id
                    and dispute.lines[-1] - last_dispute.lines[-1] <= 6):
                last_dispute.lines = sorted(set(last_dispute.lines) | set(dispute.lines))
                last_dispute.text = f"{last_dispute.text}；{dispute.text.split('；', 1)[1]}"[:500]
            else:
                proposals.append(dispute)
                last_dispute = dispute
    return proposals


def review(kind: str, text: str, lines: list[int], agenda_item_id: int | None, owner_name: str,
           department_ids: list[int], due: str, people: Sequence[Person],
           read_due: Callable[[str], DueReading]) -> Proposal:
    """An entry proposed elsewhere (the company's model), put through the rules the transcript's own proposals go
    through: the owner matched to the people in the meeting, the date and the vague wording read by the room's
    check, the same problem codes (an action without owner or concrete date, vague wording anywhere)."""
    owner = match_person(owner_name, people) if owner_name else None
    said_text, said_due = read_due(text), read_due(due) if due else DueReading()
    vague = list(dict.fromkeys(said_text.vague + said_due.vague))
    due_date = said_due.due or said_text.due
    proposal = Proposal(kind, clean(text) or text.strip(), lines, agenda_item_id, owner=owner, due_date=due_date,
                        due=said_due.phrase or due or said_text.phrase, vague=vague)
    if kind in ("action", "decision"):
        proposal.department_id = owner.department_id if owner else (department_ids[0] if department_ids else None)
        if kind == "action" and owner is None:
            proposal.problems.append("no_owner")
        if vague:
            proposal.problems.append("vague")
        elif kind == "action" and due_date is None:
            proposal.problems.append("no_due")
    else:
        proposal.department_id = department_ids[0] if department_ids else (owner.department_id if owner else None)
        proposal.owner = None  # a viewpoint, dispute or consensus has parties, not an owner
        proposal.party_ids = list(dict.fromkeys(department_ids)) if kind == "dispute" else []
    return proposal


# --- agenda ----------------------------------------------------------------------------------

_ORDINALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_ITEM_CUE = re.compile(r"第\s*([一二两三四五六七八九十\d]+)\s*(?:个|项)?\s*议题")
_NEXT_ITEM = re.compile(r"下一(?:个|项)议题|进入下一(?:个|项)|下面(?:看|讨论|进入)|接下来(?:看|讨论|进入)")


def assign_agenda(lines: Sequence[Said], items: Sequence[tuple[int, str]], start_item_id: int | None = None) -> None:
    """Give every line the agenda item under discussion, read from the talk: "第二个议题", "下一个议题", or an
    item's title said aloud. Lines before any cue belong to `start_item_id` (or the first item)."""
    if not items:
        return
    ids = [item_id for item_id, _ in items]
    current = start_item_id if start_item_id in ids else ids[0]
    for said in lines:
        text = said.text
        titled = [item_id for item_id, title in items if len(title) >= 3 and title in text]
        ordinal = _ITEM_CUE.search(text)
        if titled:
            current = titled[0]
        elif ordinal:
            word = ordinal.group(1)
            n = int(word) if word.isdigit() else _ORDINALS.get(word, 0)
            if 1 <= n <= len(ids):
                current = ids[n - 1]
        elif _NEXT_ITEM.search(text):
            position = ids.index(current)
            if position + 1 < len(ids):
                current = ids[position + 1]
        said.agenda_item_id = current
