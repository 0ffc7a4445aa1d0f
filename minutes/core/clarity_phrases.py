"""The phrase tables of minutes.core.clarity, kept as data apart from its logic: the vague terms and
their fixes, the category labels, the full-width forms read as ASCII, and the patterns of Chinese
numbers, dates and deadline cues that the deadline rules are built from. No logic, no Flask.

Vague wording: choices
----------------------
Flagged (category in brackets; see `CATEGORY_LABELS`):

* [time] 尽快 尽早 尽速 从速 及早 抓紧 近期 近日 适时 择机 择日 早日 及时 随后 稍后 马上
  不久 一段时间 有空 找时间 改天 回头(再…) (留)待日后 下一步 逐步 后续 适当时候/时机
  合适的时候/时机, a few days (几天 这几天 过几天 数日 几个工作日 几周 数月), and in Latin
  script ASAP, a.s.a.p., "as soon as possible", soon.
* [pending] 待定 再议 另议 待研究 待商议 再研究 再商议 另行通知 另行安排 TBD TBC TBA.
* [commitment] 原则上 原则同意 争取 力争 尽量 尽可能 视情况 看情况 酌情 适当.
* [approx] 大概 大约 大致 左右, the ten-day periods 上旬 中旬 下旬 and 月初 月中 年初, and
  ranges of time ("3-5个工作日", "两三天", "十几天").
* [owner] 相关/有关 + 部门/人员/同事/责任人/单位/方面: the process wants a named department
  and person.

Latin terms are case-insensitive and must stand as a word: "TBD" and "请ASAP处理" are
flagged, "TBDX" and "asap2" are not.

Not flagged, because the term is part of a word that is not vague:

* 及时率 / 及时性 / 及时交付率 / 及时响应率 (a metric), 不及时 (describes a failure),
  及时雨.
* 大概率 (a probability), 大概念.
* 左右 unless it follows a quantity or a time ("月底左右", "10天左右", "50万左右", "3点左右"
  are flagged); 左右两侧, 前后左右, 上下左右, 左右为难 and the verb (能左右结果) are not.
* 后续 when it names a concrete version ("后续版本号V2.1", "后续版本 V3"): the version is the
  commitment. "在后续版本中修复" without a number is flagged.
* 下一步骤 (a step of a procedure) — 下一步 alone ("下一步再研究") is flagged.
* 有空格 / 有空白 / 有空缺 / 有空位 / 有空间 / 有空调 / 有空运 and 没有空 (states a fact).
* 适当性 (as in 投资者适当性管理, a compliance term) and 不适当 (inappropriate).
* 不久前 (a past event, narrative rather than a commitment).
* 早日 inside 提早日期; 近日 inside 最近日程; 日后 only as "(留)待日后…" or "日后再/补/另…",
  never in "3个工作日后" or "节日后".
* 几天 / 数日 right after 前 (前几天: a past event).

When two terms overlap the longest wins (适当的时候 over 适当, 十几天 over 几天); findings are
sorted by start and never overlap.

Deadline parsing: choices
-------------------------
All relative phrases count from `today` (the day the item is written, usually the meeting
day). A weekday week runs Monday to Sunday.

* Absolute dates: 2026年6月30日 / 2026年6月30号 / 2026年6月30 / 二〇二六年六月三十日 /
  2026-06-30 / 2026/6/30 / 2026.06.30 return that date, even if it is past. Without a year
  (6月30日, 6月30号, 六月三十日, 6/30, 06-30) the next occurrence on or after today:
  with today 2026-12-20, "1月5日" is 2027-01-05. A weekday written after a date
  ("6月3日（周三）") belongs to the date. "1-2周" or "3/4个工作日" are not dates: a
  month/day with a hyphen or slash followed by a unit is left alone. A bare fraction such
  as "1/2" reads as January 2: the price of accepting "6/30".
* A day of the month alone (30号前, 十五日之前, 30号完成) only when a cue follows (前 之前
  以前 截止 完成), so "3号会议室" and "1号文件" are not dates: the next such day on or after
  today. 本月N号 / 这个月N日 are this month's; 下月N日 / 下个月N号 next month's.
* N个工作日(内) — with or without 内 — is `add_workdays(today, N)`. N天内 / N日内 /
  N个自然日内 add calendar days; N周内 / N个星期内 / N个礼拜内 add 7N days; N个月内 adds
  months (clamped to the month's end); 半个月内 is 15 days; N年内 / 半年内 add years or six
  months; N小时内 adds whole days (24小时内 = tomorrow, 2小时内 = today). These need 内 / 以内
  / 之内 or 后 / 之后 / 以后 (N天后) except 工作日, because "会期3天" or "第3周" is no deadline.
  A span counted backwards is no deadline from today either: "提前2个工作日发送",
  "会议召开2个工作日前". A range of digits ("3-5个工作日内", "1至2周内") reads its upper
  bound, and is flagged as vague.
  Chinese numerals work (三个工作日内, 两周内, 十天内, 十五天内, 二十个工作日); approximate
  ones (两三天, 十几天) are not parsed, they are flagged. After an explicit starting date,
  "自6月1日起30天内" counts from that date.
* 今天 / 今日 / 今晚 / 当天 / 当日 = today; 明天 / 明日 / 明早 / 明晚 = +1; 后天 = +2;
  大后天 = +3.
* 周X / 星期X / 礼拜X (X in 一二三四五六日天) alone: this week's X if it is today or later,
  else next week's. 本周X / 这周X / 这个星期X: this week's X even if already past (the text
  said so; the caller can warn). 下周X / 下个星期X / 下礼拜X: next week's; 下下周X: the week
  after. 上周X is never a deadline.
* 本周内 / 本周 / 这周内 (and 下周内, 下下周内): the last working day of that week by the
  calendar — normally Friday, Saturday when it is a 调休 working day, Thursday when Friday is
  a holiday. If no working day of the week remains on or after today (all days off), the
  week's Sunday.
* 本周末 / 这周末 / 周末 / 下周末: read as a manager means it. "本周末前(完成)" is "before
  the weekend": the last working day of the week, as 本周内. "本周末(完成)" with no 前 is
  "over the weekend": that week's Sunday.
* 月底 / 月末 / 本月底 / 本月内 / 本月 / 这个月底 = the last calendar day of today's month
  (not moved to a working day: the date is what was said). 下月底 / 下个月底 / 下个月 /
  下月内 = the last day of next month. N月底 / N月末 / N月份内 / N月内 = the last day of
  month N (next occurrence). 月初 / 下月初 are not parsed (flagged as vague).
* Ten-day periods mean "by the end of the period": N月上旬 = the 10th, N月中旬 = the 20th
  (中旬 is the 11th to the 20th, so the 15th would cut it short), N月下旬 = the month's last
  day; N月中 (mid-month) = the 15th. All four are also flagged as vague, since the process
  wants a specific date, and the parsed date is offered as the fix.
* 季度末 / 本季度末 / 本季度内 / 本季度 / 季末 = the last day of the current quarter; 下季度末
  / 下个季度 = of the next one. Q1..Q4 (with or without 末 / 底 / 内 / 结束前), 一季度末,
  第三季度末, 3季度: the end of that quarter, this year, or next year if it has passed
  (2026年Q3 / 明年一季度 name the year). "Q3前" is read as "by Q3's end", like the rest.
* 年底 / 年末 / 年内 / 本年底 / 今年年底 / 本年度内 = Dec 31 of this year; 明年底 = of next
  year; 2027年底 = of 2027. 上半年 = Jun 30 and 下半年 = Dec 31, this year or next year if
  passed (今年上半年 / 明年上半年 / 2027年上半年 name the year).
* Holidays by name (春节前, 国庆前, 节前) are not parsed.
"""
import re

WEEKDAYS = "一二三四五六日"

CATEGORY_LABELS: dict[str, str] = {
    "time": "时间不明确",
    "pending": "结论未定",
    "commitment": "承诺不明确",
    "approx": "数量或时间含糊",
    "owner": "责任人不明确",
}

# Full-width forms people type with a Chinese IME, mapped one character to one character so
# that offsets found in the normalised text are offsets in the original.
_NORMALISE = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "／": "/",
        "－": "-",
        "．": ".",
        "：": ":",
        "～": "~",
        "\u3000": " ",
    }
)

# Example dates in the fixes ({ymd}, {md}) are filled from `today` (see `example_deadline`), so a hint
# never offers a date already past; without `today` the fix names no date.
_S_DEADLINE = '改为具体时限，如"3个工作日内"或"{ymd}前"'
_S_PENDING = "写明由谁在何日前确定"
_S_PRINCIPLE = '删去"原则上"，写明例外条件'
_S_STRIVE = "写明承诺完成的日期"
_S_EFFORT = '写明必须达到的结果和完成日期，如"{md}前完成全部模板上线"'
_S_CONDITION = '写明触发条件和对应做法，如"投诉量超过每周50件时，由客服部启动加班"'
_S_DEGREE = '写明具体标准或数值，如"预算上调10%"'
_S_NOTIFY = '写明由谁在何日前通知，如"行政部于{md}前通知各部门"'
_S_FOLLOWUP = "写明具体事项、负责人和完成日期"
_S_STEPS = "拆分为具体步骤，每步写明负责人和完成日期"
_S_APPROX = '写明确切数值或上限，如"不超过5个工作日"'
_S_PERIOD = '写明具体日期，如"{md}前"'
_S_OWNER = '写明具体部门和负责人，如"法务部李经理"'
_S_RANGE = '写明一个确定的时限，如"3个工作日内"'

_CJK = "\u4e00-\u9fff"
_CN_DIGIT_CHARS = "零〇一二两三四五六七八九十百千万亿"

# (regex, category, suggestion); the regex may carry lookarounds that rule out compounds.
_TERMS: list[tuple[str, str, str]] = [
    # ---- time
    (r"尽快|尽早|尽速|从速|及早|抓紧", "time", _S_DEADLINE),
    (r"近期|(?<!最)近日(?!程)", "time", _S_DEADLINE),
    (r"适时|择机|择日", "time", _S_DEADLINE),
    (r"(?<![提趁较更最])早日(?![期程报])", "time", _S_DEADLINE),
    (rf"(?<!不)及时(?![率性雨])(?![{_CJK}]{{1,2}}率)", "time", _S_DEADLINE),
    (r"随后|稍后|马上", "time", _S_DEADLINE),
    (r"不久(?!前|之前)", "time", _S_DEADLINE),
    (r"一段时间", "time", _S_DEADLINE),
    (r"(?<!没)有空(?![格白缺位间调闲置中运])|找时间|改天", "time", _S_DEADLINE),
    (r"回头(?=再|补|另|商|讨论|研究|处理|确定|定)", "time", _S_DEADLINE),
    (r"(?:留待|等待|待|等)日后|日后(?=再|补|另|处理|讨论|研究|跟进|完善|决定|确定|视)", "time", _S_DEADLINE),
    (r"(?:适当|合适)的?(?:时候|时机)", "time", _S_DEADLINE),
    (r"(?<!前)(?:这|过|近)?几个?(?:工作日|天|日|周|星期|个月)", "time", _S_DEADLINE),
    (r"(?<![前天人次总页字条户件])(?:过)?数(?:日|周|月|个月)", "time", _S_DEADLINE),
    (r"下一步(?!骤)", "time", _S_STEPS),
    (r"逐步", "time", _S_STEPS),
    (r"后续(?!\s*版本号?\s*[:：]?\s*[Vv]?\s*\d)", "time", _S_FOLLOWUP),
    (r"(?i)(?<![A-Za-z0-9_])(?:as\s+soon\s+as\s+possible|a\.s\.a\.p\.?|asap|soon)(?![A-Za-z0-9_])", "time", _S_DEADLINE),
    # ---- pending
    (r"待定|再议|另议|待研究|待商议|再研究|再商议", "pending", _S_PENDING),
    (r"另行通知|另行安排", "pending", _S_NOTIFY),
    (r"(?i)(?<![A-Za-z0-9_])(?:tbd|tbc|tba)(?![A-Za-z0-9_])", "pending", _S_PENDING),
    # ---- commitment
    (r"原则上|原则同意", "commitment", _S_PRINCIPLE),
    (r"争取|力争", "commitment", _S_STRIVE),
    (r"尽量|尽可能", "commitment", _S_EFFORT),
    (r"视情况|看情况|酌情", "commitment", _S_CONDITION),
    (r"(?<!不)适当(?!性)", "commitment", _S_DEGREE),
    # ---- approx
    (r"大概(?![率念])|大约|大致", "approx", _S_APPROX),
    (rf"(?<=[\d{_CN_DIGIT_CHARS}半%％底末初旬号日天周月年点时分秒钟期个人元块倍度次份页名])左右", "approx", _S_APPROX),
    (r"上旬|中旬|下旬|月中(?![旬心])|月初|年初", "approx", _S_PERIOD),
    (r"(?:一两|两三|三四|三五|四五|五六|六七|七八|八九|十来|十几|二十来|几十)个?(?:工作日|自然日|天|日|周|星期|礼拜|月|小时)", "approx", _S_RANGE),
    # ---- owner
    (r"(?:相关|有关)(?:部门|人员|同事|责任人|单位|方面)", "owner", _S_OWNER),
]

# "3-5个工作日", "2~3周", "1至2天": a range of time, flagged with its upper bound as the fix.
_RANGE_RE = re.compile(
    r"(?<![\d.月])(\d{1,3})\s*[-~～—–至到]\s*(\d{1,3})\s*(个)?\s*(工作日|自然日|天|日|周|星期|礼拜|月|小时)"
)

# Chinese numbers, written strictly so that "两三天" is not read as "三天".
_CN_VALUES = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = (
    r"(?:[一二两三四五六七八九]百(?:零[一二三四五六七八九]|[一二三四五六七八九]十[一二三四五六七八九]?)?"
    r"|[二三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])"
)
_CN_MONTH = r"(?:十[一二]?|[一二三四五六七八九])"
_CN_DAY = r"(?:三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九])"
_CN_YEAR = r"[〇零一二三四五六七八九]{4}"
_NUM_LB = r"(?<![\d零〇一二两三四五六七八九十百千第几数.])"
_NUM = rf"(?:\d{{1,3}}|{_CN_NUM})"
_MONTH = rf"(?:\d{{1,2}}|{_CN_MONTH})"
_DAY = rf"(?:\d{{1,2}}|{_CN_DAY})"
_YEAR = rf"(?:\d{{4}}|{_CN_YEAR})"
_DOW = "一二三四五六日天"

# A time of day or closing bracket between a date and its cue: "6月30日下午5点前", "周五18:00前".
_TIME_SKIP = (
    rf"(?:\s|[)）\]】」』]|上午|下午|中午|晚上|早上|傍晚|凌晨|下班|"
    rf"(?:\d{{1,2}}|{_CN_NUM})\s*(?::\s*\d{{2}}|点(?:半|钟|\d{{1,2}}分?|{_CN_NUM}分?)?|时(?:\d{{1,2}}分)?))*"
)
_CUE_AFTER = re.compile(
    _TIME_SKIP + r"(?:前|之前|以前|内|以内|之内|截止|为止|完成|交付|提交|上线|办结|落地|反馈)"
)
_CUE_BEFORE = re.compile(
    r"(?:截止|截至|不晚于|最晚|最迟|期限|时限|deadline|due)(?:日期|时间)?\s*(?:为|是|到|至|于|在|on|by)?\s*[:：]?\s*$",
    re.I,
)
_BEFORE_CUE = re.compile(_TIME_SKIP + r"(?:前|之前|以前)")

_WD_NOTE = r"(?:\s*[（(]?\s*(?:周|星期|礼拜)[一二三四五六日天]\s*[)）]?)?"
_REL_DAY_LB = r"(?<![说证表声透查阐注标申写指讲言载列简光文发聪英分鲜高澄开失照阳黎昌神精])"

# "自6月1日起30天内": a duration counted from the date just before it.
_ANCHOR_GAP = re.compile(r"\s*(?:起|开始|起算|算起|之后|以后|后)\s*[,，]?\s*$")

# The patterns of the deadline rules, each named after the rule (in minutes.core.clarity) that reads it.
_ABSOLUTE_CN = (
    rf"(?<![\d零〇一二三四五六七八九十])(?:(?P<y>{_YEAR})\s*年\s*)?(?P<m>{_MONTH})\s*月\s*(?P<d>{_DAY})"
    rf"\s*(?:(?P<s>日|号)|(?![\d个天周日号]))" + _WD_NOTE
)
_ABSOLUTE_ISO = r"(?<![\d.\-/])(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})(?![\d])" + _WD_NOTE
_MONTH_DAY_NUMERIC = (
    r"(?<![\d.\-/:])(?P<m>\d{1,2})[/-](?P<d>\d{1,2})(?![\d/\-:.])"
    r"(?!\s*(?:个|天|日|周|星期|小时|分钟|工作|自然|月|年|人|万|千|元|%|倍|次|分|点|号|名|页|期|件|项|条|台|套))"
    + _WD_NOTE
)
_DAY_OF_MONTH = (
    rf"(?<![\d月.\-/第个号{_CN_DIGIT_CHARS}])(?P<d>{_DAY})\s*(?:日|号)"
    rf"(?={_TIME_SKIP}(?:前|之前|以前|截止|完成))"
)
_DURATION = (
    rf"(?<!提前)(?<!提早){_NUM_LB}(?P<n>{_NUM}|半)\s*"
    r"(?P<unit>个?工作日|个?自然日|天|日|周|个?星期|个?礼拜|个月|个?小时|年)"
    r"(?P<suf>以内|之内|内|之后|以后|后)?(?!前|之前|以前)"
)
_RELATIVE_DAY = (
    rf"大后天|(?<![然最之先落以往随背向])后天|{_REL_DAY_LB}明(?:天|日|早|晚)"
    r"|今(?:天|日|晚)|(?<![相担充])当(?:天|日)"
)
_WEEK = (
    rf"(?<![上个\d零〇一二两三四五六七八九十百几第])"
    r"(?P<pre>下下个?|下个?|本|这个?)?(?:周|星期|礼拜)"
    rf"(?:(?P<dow>[{_DOW}])|(?P<end>末)|(?P<within>以内|之内|内))?"
)
_MONTH_PERIOD = (
    rf"(?<![\d零〇一二三四五六七八九十])(?:(?:(?P<rel>今|本|明|这)年|(?P<y>{_YEAR})\s*年)\s*)?"
    rf"(?P<m>{_MONTH})\s*月份?(?P<p>底|末|以内|之内|内|上旬|中旬|下旬|中(?![旬心]))"
)
_RELATIVE_MONTH = (
    rf"(?<![基根资成版账样剧脚文课日])(?P<which>下下个?|下个?|本|这个?|当)月份?"
    rf"(?:(?P<p>底|末|以内|之内|内|上旬|中旬|下旬|中(?![旬心]))|(?P<d>{_DAY})\s*(?:日|号))?(?![初\d])"
)
_MONTH_END_BARE = r"(?<![\d个一二三四五六七八九十上下本这当])月(?:底|末)"
_NAMED_QUARTER = (
    rf"(?:(?:(?P<rel>今|本|明|这)年|(?P<y>{_YEAR})\s*年)\s*)?"
    r"(?:(?<![A-Za-z0-9])[Qq](?P<q1>[1-4])(?![\d])|第?(?P<q2>[一二三四1-4])季度)"
    r"(?:末|底|以内|之内|内|结束前)?"
)
_RELATIVE_QUARTER = r"(?P<pre>下下个?|下个?|本|这个?|当前|当)季度(?:末|底|以内|之内|内)?|(?<![一二三四\d第])季度(?:末|底)|季末"
_YEAR_END = (
    rf"(?:(?P<rel>今|本|明|这|当)年度?|(?P<y>{_YEAR})\s*年度?)(?:年底|年末|年内|底|末|以内|之内|内)"
    r"|(?<![去前年])年(?:底|末)|(?<![\d一二三四五六七八九十半个])年内"
)
_HALF_YEAR = rf"(?:(?P<rel>今|本|明|这)年|(?P<y>{_YEAR})\s*年)?(?P<h>上|下)半年(?:末|底|以内|之内|内)?"
