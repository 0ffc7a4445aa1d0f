"""Chinese full-text search at scale: 100,000 meetings of minutes, 200 queries, index against a plain scan.

    .venv/bin/python bench/search.py [--meetings 100000] [--queries 200] [--backends sqlite,postgresql] [--no-write]
                                     [--data DIR]

With `--data DIR` the generated databases are kept (SQLite in DIR, PostgreSQL in a schema named
after the size) and a later run with the same DIR and size only measures the queries: loading
100,000 meetings takes a quarter of an hour, and the query phase should run on a quiet box.

What it does, per database (SQLite always; PostgreSQL when one answers on TEST_POSTGRES_URL, in a
schema of its own that is dropped afterwards):

1. Generates 100,000 held meetings of realistic minutes from a vocabulary of enterprise meeting
   phrases (no downloads, fixed seed): 30 departments, 600 people, topics, goals, agenda items,
   viewpoints / disputes / consensus, decisions and action items with owners and deadlines, 300 to
   2,000 characters per meeting, 4 % confidential. Rows go in with executemany (SQLite) or COPY
   (PostgreSQL); the search documents are built by the archive's own builders
   (minutes.archive.indexer), so they are exactly what the application would index.
2. Builds the full-text indexes over the documents and reports the time and the size.
3. Runs 200 queries of 2–6 characters (words of the vocabulary, 2-character words such as 预算,
   mixed Latin and digits such as Q3 and 72小时, strings cut from random minutes, and words that
   occur nowhere), each
   - through the index: the set of matching meetings (minutes.archive.backends), and the first page
     of the search exactly as the page shows it (minutes.archive.search.search: permission filter,
     grouping by meeting, counts per kind, highlighted passages) for an ordinary employee;
   - as the baseline: a naive `LIKE '%…%'` scan over the same documents.
   Index and scan must return the same meetings for every query (checked), and the page's total
   must equal the scan's meetings the employee may see.
4. Reports p50/p95 per backend next to the scan, in the same run.

Results go to docs/BENCHMARKS.md, section "Search" (other sections are left alone).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SECTION = "## Search"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
SEED = 20260612

from live_fanout import write_results  # noqa: E402  (bench/ is on the path when a benchmark runs)
from tick import postgres_reachable  # noqa: E402

# --- the vocabulary ----------------------------------------------------------------------------

DEPARTMENTS = ["客服部", "技术部", "产品部", "市场部", "销售部", "财务部", "法务部", "人力资源部", "运营部", "采购部",
               "质量部", "信息部", "行政部", "物流部", "品牌部", "战略部", "审计部", "投资部", "公关部", "培训部",
               "研发一部", "研发二部", "数据部", "安全部", "供应链部", "渠道部", "大客户部", "海外事业部", "设计部",
               "测试部"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉俊峰晨阳凯宇浩然欣怡子涵梓萱一诺雨桐思远嘉懿"
PRODUCTS = ["智能客服系统", "会员中心", "新版APP", "小程序商城", "ERP系统", "CRM平台", "数据中台", "供应商门户", "物流追踪平台",
            "支付网关", "营销自动化平台", "BI报表系统", "工单系统", "知识库", "OA审批流", "呼叫中心", "质检平台",
            "电子合同系统", "智能仓储系统", "海外站点", "直播带货项目", "年货节活动", "618大促", "双11大促", "品牌焕新项目",
            "门店数字化项目", "积分商城", "售后服务平台", "风控模型", "推荐算法", "IoT设备平台", "SaaS订阅产品",
            "企业微信接入", "钉钉集成", "飞书机器人", "财务共享中心", "预算管理系统", "人才盘点项目", "校园招聘计划",
            "ISO9001认证", "等保三级测评", "GDPR合规项目", "数据治理项目", "云迁移项目", "灾备演练", "信创替代项目"]
CUSTOMERS = ["华东区大客户", "华南经销商", "北方区代理商", "重点KA客户", "海外渠道商", "政企客户", "中小商户", "连锁门店",
             "医院客户", "高校客户", "银行客户", "制造业客户"]
ISSUES = ["客户投诉处理流程卡点", "部门间推诿", "响应时效不达标", "需求变更频繁", "交付周期过长", "库存积压", "回款周期过长",
          "预算超支", "人力不足", "物料短缺", "质量问题反复", "数据口径不一致", "系统故障频发", "审批流程冗长",
          "合同条款争议", "供应商交付延迟", "退货率偏高", "客户满意度下降", "线索转化率低", "投诉升级处理慢",
          "职责边界不清", "跨部门接口人缺失", "版本发布延期", "测试覆盖不足", "安全漏洞整改", "广告投放ROI偏低"]
#: Topics, goals and agenda items by scenario (一、适用工作场景 of the process document).
TOPICS = {
    "kickoff": ["{product}项目启动会", "{product}需求评审会", "{product}上线协调会", "{product}验收评审会",
                "{product}风险评估会", "{customer}{product}交付启动会"],
    "resources": ["{dept}预算申请评审会", "{dept}人力调配协调会", "{product}资源协调与分配会", "{year}年Q{q}物料与采购协调会",
                  "{dept}与{dept2}外包资源协调会"],
    "problem": ["解决{issue}问题", "{customer}{issue}专题会", "{issue}二次沟通会议", "{dept}与{dept2}职责划分讨论会",
                "{product}故障复盘会"],
    "alignment": ["{year}年Q{q}季度协调会", "{year}年Q{q}{dept}与{dept2}协作复盘", "{year}年度战略落地对齐会",
                  "{month}月经营分析会", "{product}阶段性复盘会"],
}
GOALS = {
    "kickoff": ["明确{product}跨部门职责分工与时间节点", "确定Q{q}{product}上线跨部门协作计划", "确认{product}需求范围与验收标准"],
    "resources": ["评估{product}预算申请，确定资源分配方案", "统一各部门对{product}的人力需求与优先级", "确定外包与采购预算的分摊方式"],
    "problem": ["解决{issue}，形成可执行的行动方案", "梳理{issue}涉及的部门及各环节争议点", "确定{customer}投诉升级后的处理时效"],
    "alignment": ["对齐{year}年Q{q}各部门目标，保证信息透明", "复盘{product}阶段性进展，明确下一步计划", "统一月度经营数据口径"],
}
OUTCOMES = ["明确责任分工", "形成行动方案", "确定时间表", "达成分配共识", "输出问题清单与整改计划", "明确验收标准",
            "确定调配方案", "形成跨部门协作机制"]
AGENDA = {
    "kickoff": ["{product}当前进度", "上线计划与风险", "验收标准确认", "需求范围冻结", "接口联调排期", "{dept}需求说明"],
    "resources": ["{product}预算与人力", "外包与采购", "物料库存情况", "测试环境共享", "{dept}人力缺口"],
    "problem": ["{issue}的现状与原因", "{customer}反馈汇总", "SLA与响应时效", "流程图梳理", "职责分工与接口人"],
    "alignment": ["Q{q}目标拆解", "数据报表解读", "上次会议待办回顾", "经营数据口径", "下季度重点"],
}
#: Sentences by scenario: a meeting talks mostly about its own subject (kind, template).
THEMES = {
    "problem": [
        ("viewpoint", "{dept}认为需缩短{dept2}响应时间至{n}小时内，否则{customer}投诉会继续升级"),
        ("viewpoint", "{dept}反馈上月共收到{k}起相关投诉，其中{n}起超过72小时未闭环"),
        ("viewpoint", "{dept}表示当前{issue}的根本原因在于流程中缺少明确的接口人"),
        ("viewpoint", "{dept}说明SLA目前为{n}小时响应、{k}小时解决，达标率{p}%"),
        ("viewpoint", "{dept}提醒赔付类投诉须先经法务审核再答复客户"),
        ("viewpoint", "{dept}建议建立投诉分级标准，重大投诉2小时内升级到部门负责人"),
        ("viewpoint", "{dept}指出工单在{dept2}平均停留{n}天，重复派单占{p}%"),
        ("dispute", "{dept}认为问题描述不完整导致重复沟通，{dept2}认为客户描述已足够清晰"),
        ("dispute", "{dept}与{dept2}对{issue}的责任归属存在分歧，各自认为对方环节超时"),
        ("consensus", "{dept}在收到投诉后1小时内补充问题描述，{dept2}在收到完整信息后24小时内反馈解决方案"),
        ("consensus", "{dept}与{dept2}共同梳理流程图，明确每个环节的责任人"),
        ("decision", "确定客户投诉处理总时效不超过{k}小时"),
        ("decision", "SLA调整为{n}小时响应、{k}小时解决，每月通报达标率"),
        ("decision", "{dept}接口人为唯一对外窗口，其余人员不直接答复{customer}"),
        ("action", "{dept}优化投诉提报模板，{month}月{day}日前上线"),
        ("action", "{dept}与{dept2}约定SLA响应标准并形成书面记录"),
        ("action", "{dept}梳理{issue}相关流程图，标注各环节责任人"),
        ("action", "{dept}收集{customer}近三个月反馈并出具分析报告"),
    ],
    "kickoff": [
        ("viewpoint", "{dept}希望在Q{q}前完成{product}的灰度上线，先覆盖{customer}"),
        ("viewpoint", "{dept}指出{product}的验收标准尚未书面确认，存在返工风险"),
        ("viewpoint", "{dept}提出需求文档还有{n}项待确认，建议本周内冻结范围"),
        ("viewpoint", "{dept}认为{product}的接口联调至少需要{n}周，排期偏紧"),
        ("viewpoint", "{dept}建议上线前完成压力测试和安全扫描，避免大促期间故障"),
        ("viewpoint", "{dept}提出供应商交付周期已从{n}天延长到{k}天，影响{product}排期"),
        ("dispute", "{dept}与{dept2}对{product}的上线时间存在分歧：一方主张Q{q}上线，另一方主张延后一个季度"),
        ("dispute", "{dept}认为验收应以客户签字为准，{dept2}认为以系统测试报告为准"),
        ("consensus", "各部门同意以{product}为Q{q}第一优先级，资源向其倾斜"),
        ("decision", "{product}于{month}月{day}日前完成灰度上线，{dept}负责发布"),
        ("decision", "成立{product}专项小组，由{dept}牵头，{dept2}配合"),
        ("decision", "{product}验收标准以书面确认的测试报告为准"),
        ("action", "{dept}输出{product}验收标准文档并发各部门确认"),
        ("action", "{dept}完成{product}压力测试，输出性能报告"),
        ("action", "{dept}组织{product}上线培训，覆盖{dept2}全体一线人员"),
        ("action", "{dept}冻结{product}需求范围，变更须走评审"),
    ],
    "resources": [
        ("viewpoint", "{dept}提出{product}的预算需追加{m}万元，主要用于外包开发和服务器扩容"),
        ("viewpoint", "{dept}建议增加人力配置，并请{dept2}提前提交详细的需求说明和数据报表"),
        ("viewpoint", "{dept}认为人力调配应优先保障{product}，其余项目顺延"),
        ("viewpoint", "{dept}说明当前物料库存可支撑{n}周，采购周期约{k}天"),
        ("viewpoint", "{dept}希望共享{dept2}的测试环境，节省采购费用约{m}万元"),
        ("viewpoint", "{dept}指出外包单价上涨{p}%，建议重新招标"),
        ("dispute", "{dept}与{dept2}对预算分摊比例未达成一致，差额约{m}万元"),
        ("dispute", "{dept}认为应借调{dept2}的{n}名工程师，{dept2}表示本季度无法释放人力"),
        ("consensus", "预算按{dept}与{dept2}六四比例分摊，超支部分另行申请"),
        ("decision", "{dept}追加预算{m}万元，由财务部于{month}月{day}日前完成复核"),
        ("decision", "{dept2}借调{n}名工程师支持{product}，为期{k}天"),
        ("action", "{dept}提交{product}预算明细表，{n}个工作日内完成"),
        ("action", "{dept}发起外包招标，{month}月{day}日前确定供应商"),
        ("action", "{dept}更新人力排期表并同步{dept2}"),
    ],
    "alignment": [
        ("viewpoint", "{dept}认为KPI考核口径需要与{dept2}统一，避免重复统计"),
        ("viewpoint", "{dept}提出ERP与CRM数据口径不一致，月报差异约{p}%"),
        ("viewpoint", "{dept}汇报Q{q}目标达成率{p}%，主要差距在{customer}回款"),
        ("viewpoint", "{dept}希望{dept2}在每周五前同步一次进度，并在群里公开风险"),
        ("viewpoint", "{dept}建议把OKR拆解到季度，每月复盘一次"),
        ("viewpoint", "{dept}指出{product}的阶段性目标已完成{p}%，剩余工作集中在数据迁移"),
        ("dispute", "{dept}与{dept2}对年度目标的拆分方式存在分歧，差异集中在新客户数"),
        ("consensus", "{dept}与{dept2}以月度经营报表为唯一数据口径"),
        ("decision", "审批节点压缩为3个，审批时限不超过2个工作日"),
        ("decision", "每月第一个周一召开进度同步会，由{dept}主持"),
        ("action", "{dept}更新KPI考核口径并同步{dept2}"),
        ("action", "{dept}输出Q{q}目标拆解表，{n}个工作日内发出"),
    ],
}
GENERIC = [
    ("viewpoint", "{dept}建议将审批节点从{n}个压缩到3个，审批时限不超过2个工作日"),
    ("viewpoint", "{dept}提醒{product}涉及合同条款变更，须先经法务审核"),
    ("viewpoint", "{dept}同意上述安排，需{dept2}在{month}月{day}日前提供接口人名单"),
    ("viewpoint", "{name}补充：上次会议的{n}项待办中已完成{k2}项，其余延期"),
    ("consensus", "会后由{dept}整理纪要，{n}个工作日内发出确认"),
    ("action", "{dept}跟进上次会议遗留问题，下次会议前反馈进展"),
]
#: Words that occur nowhere in the generated minutes (queries that must find nothing).
ABSENT = ["区块链", "元宇宙", "碳中和", "量子计算", "无人机", "光伏", "氢能", "芯片流片", "卫星", "潜水艇"]


def fill(rng: random.Random, template: str, people: list[str], subject: dict | None = None) -> str:
    """Fill a template; a meeting's subject (its departments, product, issue, customer) is used most of the time."""
    subject = subject or {}
    depts = subject.get("departments") or DEPARTMENTS
    dept, dept2 = rng.sample(depts, 2) if len(depts) > 1 else rng.sample(DEPARTMENTS, 2)
    pick = lambda key, pool: subject[key] if key in subject and rng.random() < 0.85 else rng.choice(pool)  # noqa: E731
    return template.format(dept=dept, dept2=dept2, product=pick("product", PRODUCTS), issue=pick("issue", ISSUES),
                           customer=pick("customer", CUSTOMERS), year=rng.choice((2024, 2025, 2026)),
                           q=rng.randint(1, 4), month=rng.randint(1, 12), day=rng.randint(1, 28),
                           n=rng.choice((2, 3, 4, 5, 8, 12, 24, 48)), k=rng.choice((24, 36, 48, 72, 96, 120)),
                           k2=rng.randint(1, 5), m=rng.choice((5, 10, 20, 30, 50, 80, 120)), p=rng.randint(60, 99),
                           name=rng.choice(people))


# --- generating a company's minutes ----------------------------------------------------------

class Generator:
    """Rows for departments, people and meetings, with points, decisions and actions, by id."""

    def __init__(self, meetings: int, seed: int = SEED):
        self.rng = random.Random(seed)
        self.meetings = meetings
        self.departments = [{"id": i + 1, "name": name} for i, name in enumerate(DEPARTMENTS)]
        names = set()
        while len(names) < 600:
            names.add(self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.randint(1, 2))))
        self.users = [{"id": i + 1, "name": name, "username": f"u{i + 1:04d}", "department_id": (i % 30) + 1}
                      for i, name in enumerate(sorted(names))]
        self.people = [u["name"] for u in self.users]

    def rows(self):
        """Yield (table name, row) in an order the foreign keys accept, meeting by meeting."""
        rng = self.rng
        start = datetime(2023, 1, 2, 1, 0, tzinfo=UTC)
        ids = {"agenda_item": 0, "point": 0, "decision": 0, "action_item": 0, "participant": 0}
        for meeting_id in range(1, self.meetings + 1):
            starts = start + timedelta(minutes=int((meeting_id - 1) * (3 * 365 * 24 * 60 / self.meetings)))
            creator = rng.choice(self.users)
            target = int(rng.triangular(300, 2000, 700))
            scenario = rng.choice(("kickoff", "resources", "problem", "alignment"))
            subject = {"departments": rng.sample(DEPARTMENTS, rng.randint(2, 5)), "product": rng.choice(PRODUCTS),
                       "issue": rng.choice(ISSUES), "customer": rng.choice(CUSTOMERS)}
            # a meeting talks about a few things of its scenario, not about everything
            focus = rng.sample(THEMES[scenario], rng.randint(3, 6))
            topic = fill(rng, rng.choice(TOPICS[scenario]), self.people, subject)[:200]
            goal = fill(rng, rng.choice(GOALS[scenario]), self.people, subject)
            outcome = rng.choice(OUTCOMES)
            yield "meeting", {
                "id": meeting_id, "topic": topic, "goal": goal, "expected_outcome": outcome,
                "scenario": scenario, "starts_at": starts,
                "ends_at": starts + timedelta(minutes=90), "location": "3号楼 301会议室", "online_link": "",
                "organizer_department_id": creator["department_id"], "confidential": rng.random() < 0.04,
                "status": rng.choice(("final", "final", "final", "distributed", "minutes_due")),
                "created_by_id": creator["id"], "created_at": starts - timedelta(days=3), "version": 1}
            invited = {creator["id"]: "host"}
            for user in rng.sample(self.users, rng.randint(3, 8)):
                invited.setdefault(user["id"], "participant")
            for user_id, role in invited.items():
                ids["participant"] += 1
                yield "participant", {"id": ids["participant"], "meeting_id": meeting_id, "user_id": user_id,
                                      "role": role, "created_at": starts - timedelta(days=3)}
            length = len(topic) + len(goal) + len(outcome)
            items = rng.randint(2, 5)
            for position in range(1, items + 1):
                ids["agenda_item"] += 1
                item_id = ids["agenda_item"]
                title = fill(rng, rng.choice(AGENDA[scenario]), self.people, subject)
                length += len(title)
                yield "agenda_item", {"id": item_id, "meeting_id": meeting_id, "position": position, "title": title,
                                      "description": "", "minutes": 20, "department_id": rng.choice(self.departments)["id"],
                                      "created_at": starts - timedelta(days=3)}
                budget = (target - length) // (items - position + 1)
                spent, pos = 0, 0
                while spent < budget or pos == 0:
                    pos += 1
                    roll = rng.random()
                    kind, template = rng.choice(focus if roll < 0.9 else THEMES[scenario] if roll < 0.96 else GENERIC)
                    text = fill(rng, template, self.people, subject)
                    spent += len(text)
                    owner = rng.choice(self.users)
                    common = {"meeting_id": meeting_id, "agenda_item_id": item_id, "text": text, "position": pos,
                              "created_by_id": creator["id"], "created_at": starts, "version": 1}
                    if kind == "decision":
                        ids["decision"] += 1
                        yield "decision", {**common, "id": ids["decision"], "owner_department_id": owner["department_id"],
                                           "owner_id": owner["id"], "due_date": (starts + timedelta(days=14)).date(),
                                           "due_text": "", "reworded": False}
                    elif kind == "action":
                        ids["action_item"] += 1
                        yield "action_item", {**common, "id": ids["action_item"],
                                              "owner_department_id": owner["department_id"], "owner_id": owner["id"],
                                              "due_date": (starts + timedelta(days=14)).date(), "due_text": "",
                                              "status": rng.choice(("done", "done", "in_progress", "not_started", "delayed")),
                                              "reworded": False}
                    else:
                        ids["point"] += 1
                        yield "point", {**common, "id": ids["point"], "kind": kind,
                                        "department_id": owner["department_id"]}
                length += spent

    def queries(self, count: int, sample_texts: list[str]) -> list[str]:
        """Queries of 2–6 characters, as people type them: words of the trade, names of things,
        strings of 3–6 characters copied from minutes, and words that occur nowhere."""
        rng = random.Random(SEED + 1)
        two = ["预算", "投诉", "法务", "人力", "上线", "验收", "回款", "库存", "合同", "审批", "外包", "招标", "排期", "灰度",
               "工单", "派单", "值班", "赔付", "培训", "采购", "物料", "返工", "口径", "复盘", "风险", "接口", "扩容", "联调",
               "Q3", "Q4", "SLA", "KPI", "OKR", "ERP", "CRM"]
        longer = ["72小时", "24小时", "灰度上线", "验收标准", "响应时间", "接口人", "供应商", "压力测试", "流程图", "数据口径",
                  "审批时限", "追加预算", "投诉升级", "客户满意度", "交付周期", "人力调配", "外包开发", "服务器扩容", "需求文档",
                  "安全扫描", "测试环境", "分级标准", "目标达成率", "月度经营", "经营报表", "借调", "专项小组", "培训覆盖"]
        names = [p for p in PRODUCTS if 2 <= len(p) <= 6] + [d for d in DEPARTMENTS if len(d) <= 6] + \
            [c for c in CUSTOMERS if len(c) <= 6] + [i for i in ISSUES if len(i) <= 6]
        picked: list[str] = []
        while len(picked) < count:
            roll = rng.random()
            if roll < 0.25:
                q = rng.choice(two)
            elif roll < 0.45:
                q = rng.choice(longer)
            elif roll < 0.7:
                q = rng.choice(names)
            elif roll < 0.92:
                text = rng.choice(sample_texts)
                size = rng.randint(3, 6)
                at = rng.randrange(0, max(1, len(text) - size))
                q = text[at:at + size]
                if any(not ch.isalnum() for ch in q) or len(q) < 3:
                    continue
            else:
                q = rng.choice(ABSENT)
            picked.append(q)
        return picked


# --- loading ---------------------------------------------------------------------------------

BATCH = 5000


def load(engine, generator: Generator, backend: str) -> dict:
    """Insert the company and its meetings, with their search blocks built by the archive's own code."""
    from sqlalchemy import insert

    from minutes.archive import indexer
    from minutes.extensions import db
    from minutes.people.models import Department, User

    tables = db.metadata.tables
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Department.__table__), [{**d, "created_at": datetime(2022, 1, 1, tzinfo=UTC)}
                                                     for d in generator.departments])
        conn.execute(insert(User.__table__), [{**u, "email": None, "password_hash": "x", "is_admin": False,
                                               "is_department_head": False, "is_enabled": True, "session_version": 1,
                                               "is_demo": False, "created_at": datetime(2022, 1, 1, tzinfo=UTC)}
                                              for u in generator.users])
    builders = {"meeting": indexer.meeting_docs, "agenda_item": indexer.agenda_docs, "point": indexer.point_docs,
                "decision": indexer.decision_docs, "action_item": indexer.action_docs}
    counts = {name: 0 for name in ("meeting", "participant", "agenda_item", "point", "decision", "action_item")}
    totals = {"blocks": 0, "chars": 0}
    sample_texts = []
    pending: dict[str, list[dict]] = {name: [] for name in list(counts) + ["search_block", "search_block_gram",
                                                                           "archive_entry"]}
    writer = _Writer(engine, backend, tables)
    current: dict = {}

    def close_meeting():
        if not current:
            return
        blocks = indexer.block_rows(current["row"]["id"], current["row"]["starts_at"], current["docs"])
        pending["search_block"] += blocks
        if backend == "postgresql":
            pending["search_block_gram"] += indexer.gram_rows(blocks)
        totals["blocks"] += len(blocks)
        totals["chars"] += sum(len(doc.body) for doc in current["docs"])
        pending["archive_entry"].append(indexer.entry_row(_Row(current["row"])))

    for table, row in generator.rows():
        counts[table] += 1
        pending[table].append(row)
        if table == "meeting":
            close_meeting()
            row.setdefault("series_id", None)
            current = {"row": row, "docs": []}
            if len(pending["meeting"]) >= BATCH // 5:
                writer.flush(pending)
        if table in builders:
            for doc in builders[table](_Row(row)):
                current["docs"].append(doc)
                if len(sample_texts) < 5000 and generator.rng.random() < 0.01:
                    sample_texts.append(doc.body)
    close_meeting()
    writer.flush(pending)
    writer.close()
    return {"seconds": time.perf_counter() - started, "counts": counts, "blocks": totals["blocks"],
            "chars": totals["chars"], "sample_texts": sample_texts}


class _Row(dict):
    """A generated row that the indexer's builders can read like an ORM object."""

    def __getattr__(self, name):
        return self.get(name)


class _Writer:
    """Writes batches in foreign-key order: executemany on SQLite, COPY on PostgreSQL."""

    ORDER = ["meeting", "participant", "agenda_item", "point", "decision", "action_item", "search_block",
             "search_block_gram", "archive_entry"]

    def __init__(self, engine, backend: str, tables):
        self.engine, self.backend, self.tables = engine, backend, tables
        self.raw = engine.raw_connection() if backend == "postgresql" else None

    def flush(self, pending: dict[str, list[dict]]) -> None:
        from sqlalchemy import insert

        if self.backend == "postgresql":
            cursor = self.raw.cursor()
            for name in self.ORDER:
                rows = pending[name]
                if not rows:
                    continue
                columns = list(rows[0])
                with cursor.copy(f'COPY "{name}" ({", ".join(columns)}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row([_pg_value(row[c]) for c in columns])
                rows.clear()
            self.raw.commit()
            return
        with self.engine.begin() as conn:
            for name in self.ORDER:
                if pending[name]:  # (search_block_gram is PostgreSQL's only)
                    conn.execute(insert(self.tables[name]), pending[name])
                    pending[name].clear()

    def close(self):
        if self.raw is not None:
            self.raw.close()


def _pg_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# --- measuring -------------------------------------------------------------------------------

def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run_backend(backend: str, meetings: int, query_count: int, data: Path | None = None) -> dict:
    from sqlalchemy import select, text

    from minutes import create_app
    from minutes.archive import search as archive_search
    from minutes.archive.backends import backend_for
    from minutes.archive.models import SearchBlock
    from minutes.archive.text import parse_query
    from minutes.core import timefmt
    from minutes.extensions import db
    from minutes.meetings.models import Meeting, Participant
    from minutes.people.models import User

    workdir = data or Path(tempfile.mkdtemp(prefix="bench_search_"))
    workdir.mkdir(parents=True, exist_ok=True)
    saved = workdir / f"{backend}-{meetings}.json"  # what the loading run found, for a run that reuses its data
    reuse = data is not None and saved.exists()
    schema = None
    if backend == "postgresql":
        import psycopg

        schema = f"bench_search_{meetings}" if data else f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            if not reuse:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                conn.execute(f'CREATE SCHEMA "{schema}"')
        url = PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{workdir / f'bench-{meetings}.sqlite3'}"
        if not reuse:
            (workdir / f"bench-{meetings}.sqlite3").unlink(missing_ok=True)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {},
                      "OUTBOX_DELIVER_ON_COMMIT": False})
    result: dict = {"backend": backend}
    try:
        with app.app_context():
            engine = db.engine
            generator = Generator(meetings)
            if reuse:
                loaded = json.loads(saved.read_text())
                print(f"   reusing the {meetings:,} meetings loaded on {loaded['when']} ({workdir})", flush=True)
            else:
                db.create_all()
                search_backend = backend_for(engine.dialect.name)
                with engine.begin() as conn:  # the blocks go in first; the indexes are built over them at once
                    search_backend.drop_indexes(conn)
                loaded = load(engine, generator, backend)
                print(f"   loaded {meetings:,} meetings, {loaded['blocks']:,} blocks, "
                      f"{loaded['chars'] / meetings:.0f} characters per meeting in {loaded['seconds']:.0f} s", flush=True)
                started = time.perf_counter()
                with engine.begin() as conn:
                    search_backend.create_indexes(conn)  # as `flask minutes reindex` does after loading
                loaded.update(build_s=time.perf_counter() - started, when=f"{datetime.now():%Y-%m-%d %H:%M}",
                              load_average=os.getloadavg()[0])
                if data:
                    saved.write_text(json.dumps({k: v for k, v in loaded.items()}, ensure_ascii=False))
            result.update(load_s=loaded["seconds"], counts=loaded["counts"], blocks=loaded["blocks"],
                          chars=loaded["chars"], build_s=loaded["build_s"], build_load=loaded["load_average"])
            with engine.begin() as conn:
                if backend == "postgresql":
                    conn.exec_driver_sql("ANALYZE")
                else:
                    conn.exec_driver_sql("ANALYZE")
                result["sizes"] = _sizes(conn, backend)
            print(f"   indexes built in {result['build_s']:.0f} s: {_mb(result['sizes']['index'])} "
                  f"(blocks {_mb(result['sizes']['blocks'])})", flush=True)

            # the employee who searches: an ordinary member of one department, invited to some meetings
            user = db.session.get(User, 7)
            timefmt.freeze(datetime(2026, 1, 5, 1, 0, tzinfo=UTC))
            visible = set(db.session.scalars(select(Meeting.id).where(
                (Meeting.confidential.is_(False)) | (Meeting.created_by_id == user.id)
                | Meeting.id.in_(select(Participant.meeting_id).where(Participant.user_id == user.id)))))
            queries = generator.queries(query_count, loaded["sample_texts"])
            blocks = SearchBlock.__table__
            indexed_ms, page_ms, scan_ms, mismatches, hits = [], [], [], [], []
            result["query_load"] = os.getloadavg()[0]
            result["warmed"] = _read_through(engine, backend, workdir / f"bench-{meetings}.sqlite3")
            for q in queries[:10]:  # warm up (not measured): a running server has its caches warm
                archive_search.search(user, archive_search.SearchQuery(q=q))
                db.session.rollback()
            for q in queries:
                parsed = parse_query(q)
                # the index side runs 3 times and counts its median: the box is shared, one run can be unlucky
                runs_match, runs_page = [], []
                for _ in range(3):
                    t0 = time.perf_counter()
                    found = archive_search.matching_meetings(archive_search.SearchQuery(q=q))
                    runs_match.append((time.perf_counter() - t0) * 1000)
                    db.session.rollback()
                    t0 = time.perf_counter()
                    page = archive_search.search(user, archive_search.SearchQuery(q=q))
                    runs_page.append((time.perf_counter() - t0) * 1000)
                    db.session.rollback()
                indexed_ms.append(sorted(runs_match)[1])
                page_ms.append(sorted(runs_page)[1])
                if backend == "postgresql":  # a scan: keep PostgreSQL from using the trigram index for LIKE
                    db.session.execute(text("SET LOCAL enable_bitmapscan = off"))
                    db.session.execute(text("SET LOCAL enable_indexscan = off"))
                t0 = time.perf_counter()
                scanned = set(db.session.scalars(_naive(blocks, parsed)))
                scan_ms.append((time.perf_counter() - t0) * 1000)
                db.session.rollback()
                hits.append(len(scanned))
                if found != scanned or page.total != len(scanned & visible):
                    mismatches.append((q, len(found), len(scanned), page.total, len(scanned & visible)))
            result.update(queries=queries, indexed_ms=indexed_ms, page_ms=page_ms, scan_ms=scan_ms,
                          mismatches=mismatches, hits=hits)
            db.session.remove()
            timefmt.freeze(None)
            engine.dispose()
    finally:
        if not data:  # with --data the databases are kept for the next run
            if schema:
                import psycopg

                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            for path in workdir.glob("*"):
                path.unlink()
            workdir.rmdir()
    return result


def _read_through(engine, backend: str, sqlite_file: Path) -> str:
    """Read the whole database once before measuring, as a server in use has it in the OS page cache.

    This box gives page cache back to its host within minutes (an idle box loses ~10 MB/s of it), so without
    this the first queries after loading or a pause read from disk, and runs an hour apart differ by a third.
    """
    started = time.perf_counter()
    if backend == "sqlite":
        with open(sqlite_file, "rb") as f:
            while f.read(1 << 20):
                pass
        return f"read the {sqlite_file.stat().st_size / 2**20:,.0f} MB file in {time.perf_counter() - started:.1f} s"
    from sqlalchemy import text

    with engine.begin() as conn:  # pg_prewarm's 'read' mode: into the OS page cache, as a server in use has them
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        except Exception as error:  # noqa: BLE001  (no privilege: measure as it is, and say so)
            return f"not warmed ({type(error).__name__})"
    with engine.begin() as conn:
        pages = conn.execute(text(
            "SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c WHERE c.relkind IN ('r', 'i', 't') AND "
            "(c.relnamespace = current_schema()::regnamespace OR c.oid IN (SELECT reltoastrelid FROM pg_class "
            "WHERE relnamespace = current_schema()::regnamespace))")).scalar()
    return f"read {int(pages or 0) * 8 / 1024:,.0f} MB of tables and indexes in {time.perf_counter() - started:.1f} s"


def _naive(blocks, parsed):
    """The baseline: every term as LIKE '%…%' over the text of every block (no index can help)."""
    from sqlalchemy import and_, select

    clauses = [blocks.c.text.like(f"%{term}%") for term in parsed.terms]
    return select(blocks.c.meeting_id).where(and_(*clauses)).distinct()


def _sizes(conn, backend: str) -> dict:
    if backend == "sqlite":
        rows = dict(conn.exec_driver_sql("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").all())
        blocks = rows.get("search_block", 0)
        index = sum(size for name, size in rows.items() if name.startswith(("search_fts", "search_gram")))
        return {"blocks": blocks, "index": index, "database": sum(rows.values())}
    one = lambda sql: int(conn.exec_driver_sql(sql).scalar() or 0)  # noqa: E731
    blocks = one("SELECT pg_table_size('search_block')")
    index = one("SELECT pg_relation_size('ix_search_block_trgm') + pg_total_relation_size('search_block_gram')")
    total = one("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'")
    return {"blocks": blocks, "index": index, "database": total}


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.0f} MB"


# --- reporting -------------------------------------------------------------------------------

def report(results: list[dict], meetings: int, query_count: int) -> str:
    cpu = platform.processor() or platform.machine()
    lines = [SECTION, "",
             f"`bench/search.py`, {datetime.now():%Y-%m-%d}, {os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, "
             f"SQLite {_sqlite_version()}, PostgreSQL (local, default settings). {meetings:,} generated meetings of Chinese "
             "minutes (300–2,000 characters each; themes by scenario, so words have realistic spreads), "
             f"{query_count} queries of 2–6 characters (2-character words such as 预算 and Q3, longer words, names of "
             "products, departments and customers, strings copied from minutes, words that occur nowhere). "
             "Milliseconds per query, index and scan measured in the same run on the same data.", ""]
    lines += ["| backend | blocks | characters | index build | index size | text size | "
              "matching meetings, index p50 / p95 | search page p50 / p95 | `LIKE` scan p50 / p95 | "
              "scan ÷ index p50 / p95 | scan ÷ page p50 / p95 | same meetings |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ip50, ip95 = percentile(r["indexed_ms"], 50), percentile(r["indexed_ms"], 95)
        pp50, pp95 = percentile(r["page_ms"], 50), percentile(r["page_ms"], 95)
        sp50, sp95 = percentile(r["scan_ms"], 50), percentile(r["scan_ms"], 95)
        same = "yes, all {}".format(len(r["queries"])) if not r["mismatches"] else f"**{len(r['mismatches'])} differ**"
        lines.append(f"| {r['backend']} | {r['blocks']:,} | {r['chars'] / 1e6:.0f} M | {r['build_s']:.0f} s | "
                     f"{_mb(r['sizes']['index'])} | {_mb(r['sizes']['blocks'])} | {ip50:.1f} / {ip95:.1f} | "
                     f"{pp50:.1f} / {pp95:.1f} | {sp50:.0f} / {sp95:.0f} | {sp50 / ip50:.0f}× / {sp95 / ip95:.0f}× | "
                     f"{sp50 / pp50:.0f}× / {sp95 / pp95:.0f}× | {same} |")
    lines += ["",
              "- *blocks*: one per meeting and kind of text (topic, goal, agenda, points, decisions, actions, final "
              "minutes), folded (NFKC, lower case); *index build*: creating the full-text indexes over them "
              "(`create_indexes`, what `flask minutes reindex` does after loading); *index size*: the FTS5 tables "
              "(SQLite) or the pg_trgm GIN index and the table `search_block_gram` with its GIN index (PostgreSQL).",
              "- *matching meetings, index*: all meetings with a match, through the index — the same set the scan "
              "computes (checked for every query). *search page*: `minutes.archive.search.search` as an ordinary "
              "employee sees it: permission filter, total, meetings per kind, the first 20 meetings by relevance "
              "with their highlighted passages — what the page waits for. Index and page times are the median of "
              "3 runs of each query (the box is shared with other work); the scan runs once.",
              "- Terms of 3+ characters go through the trigram indexes (FTS5 `trigram`, pg_trgm GIN with `LIKE`); "
              "1–2 character terms through the gram indexes (FTS5 `detail=none` over the 1- and 2-character grams, "
              "GIN over the grams of each block, in the narrow table `search_block_gram`). The scan is `text LIKE '%term%'` for every term over the same blocks "
              "(on PostgreSQL with index scans switched off for it).",
              ""]
    for r in results:
        by_spread: dict[str, list[float]] = {}
        for p, n in zip(r["page_ms"], r["hits"]):
            share = n / meetings
            bucket = ("in under 1 % of meetings" if share < 0.01 else "in 1–10 %" if share < 0.1
                      else "in 10–25 %" if share < 0.25 else "in 25 % or more")
            by_spread.setdefault(bucket, []).append(p)
        order = ["in under 1 % of meetings", "in 1–10 %", "in 10–25 %", "in 25 % or more"]
        parts = [f"{k}: p50 {percentile(by_spread[k], 50):.1f} / p95 {percentile(by_spread[k], 95):.1f} ms "
                 f"({len(by_spread[k])} queries)" for k in order if k in by_spread]
        slowest = sorted(zip(r["page_ms"], r["queries"], r["hits"]), reverse=True)[:3]
        lines.append(f"- {r['backend']}: search page by how widely the words occur — " + "; ".join(parts)
                     + ". Slowest: " + ", ".join(f"“{q}” {ms:.0f} ms ({n:,} meetings)" for ms, q, n in slowest)
                     + f". Loading the data took {r['load_s']:.0f} s; before the queries the bench {r['warmed']}; "
                     f"1-minute load average while the indexes "
                     f"were built {r['build_load']:.1f}, when the queries began {r['query_load']:.1f} (2 cores).")
        for q, found, scanned, total, visible in r["mismatches"][:5]:
            lines.append(f"  - differs: “{q}” index {found}, scan {scanned}, page total {total}, visible {visible}")
    targets = []
    for r in results:
        ip95, pp95 = percentile(r["indexed_ms"], 95), percentile(r["page_ms"], 95)
        ratio_index = percentile(r["scan_ms"], 50) / percentile(r["indexed_ms"], 50)
        ratio_page = percentile(r["scan_ms"], 50) / percentile(r["page_ms"], 50)
        verdict = lambda ok: "met" if ok else "not met"  # noqa: E731
        targets.append(f"{r['backend']}: finding the meetings p95 {ip95:.0f} ms ({verdict(ip95 <= 50)}), "
                       f"{ratio_index:.0f}× the scan ({verdict(ratio_index >= 20)}); the whole page p95 {pp95:.0f} ms "
                       f"({verdict(pp95 <= 50)}), {ratio_page:.0f}× the scan ({verdict(ratio_page >= 20)})")
    lines += ["", "Targets — p95 ≤ 50 ms and ≥ 20× faster than the scan (p50 against p50): " + "; ".join(targets) + "."]
    return "\n".join(lines) + "\n"


def _sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/BENCHMARKS.md alone")
    parser.add_argument("--data", type=Path, help="keep the generated databases here and reuse them next time")
    args = parser.parse_args()
    results = []
    for backend in args.backends.split(","):
        if backend == "postgresql" and not postgres_reachable():
            print(f"PostgreSQL not reachable at {PG_URL}: skipped")
            continue
        print(f"== {backend}: {args.meetings:,} meetings …", flush=True)
        result = run_backend(backend, args.meetings, args.queries, args.data)
        print(f"   match p50 {percentile(result['indexed_ms'], 50):.1f} ms / p95 {percentile(result['indexed_ms'], 95):.1f}; "
              f"page p50 {percentile(result['page_ms'], 50):.1f} / p95 {percentile(result['page_ms'], 95):.1f}; "
              f"scan p50 {percentile(result['scan_ms'], 50):.0f} / p95 {percentile(result['scan_ms'], 95):.0f}; "
              f"{len(result['mismatches'])} mismatches", flush=True)
        results.append(result)
    text = report(results, args.meetings, args.queries)
    print(text)
    if not args.no_write:
        write_results(text, SECTION)


if __name__ == "__main__":
    main()
