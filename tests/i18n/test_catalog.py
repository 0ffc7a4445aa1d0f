"""The zh_CN catalog: up to date with the sources, valid, and really used when pages render."""
import re
import shlex
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "minutes" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def _extract_argv(output):
    """The `pybabel extract` command of `make translations`, writing to `output`."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(ln for ln in makefile.splitlines() if ln.strip().startswith("$(PYBABEL) extract"))
    argv = shlex.split(line.strip())[1:]
    out = argv.index("-o")
    argv[out + 1] = str(output)
    return ["pybabel", "--quiet", *argv]


def _ids(catalog):
    return {(m.context, m.id) for m in catalog if m.id}


def test_catalog_lists_exactly_the_strings_in_the_sources(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(_extract_argv(tmp_path / "messages.pot"))
    with open(tmp_path / "messages.pot", "rb") as f:
        extracted = _ids(read_po(f))
    with open(PO, "rb") as f:
        catalog = read_po(f)
    listed = _ids(catalog)
    assert len(extracted) > 900  # the extraction saw the templates and the Python code
    missing, stale = sorted(extracted - listed), sorted(listed - extracted)
    assert not missing and not stale, (
        "messages.po is out of date: run `make translations` and commit messages.po\n"
        f"missing: {missing[:20]}\nno longer in the sources: {stale[:20]}")
    assert not catalog.obsolete


def test_catalog_has_no_errors():
    with open(PO, "rb") as f:
        catalog = read_po(f)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems
    assert str(catalog.locale) == "zh_Hans_CN"


def _compiled_catalog(directory, changes):
    """Compile the committed catalog into directory, with some messages translated differently."""
    with open(PO, "rb") as f:
        catalog = read_po(f)
    for msgid, msgstr in changes.items():
        assert catalog.get(msgid) is not None, f"{msgid!r} is not in messages.po"
        catalog.get(msgid).string = msgstr
    target = directory / "zh_Hans_CN" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as f:
        write_mo(f, catalog)


def test_pages_render_through_the_catalog(app, client, make_user, make_meeting, login_as, clock, tmp_path,
                                          monkeypatch):
    from minutes.extensions import babel

    _compiled_catalog(tmp_path, {
        "工作台": "控制台[测试译文]",                     # template text
        "%(count)s 人": "共%(count)s位[测试译文]",         # template text with a placeholder
        "周一": "星期一[测试译文]",                         # Python (lazy_gettext) through a filter
        "用户名或密码错误": "登录失败[测试译文]",            # Python (gettext) in a view
        "请填写会议主题": "主题必填[测试译文]",              # a service's validation message
        "会议已创建，请继续安排议程和参会人员": "已建[测试译文]",  # a flash message
    })
    # the app reads the committed catalog's directory; the test swaps in a copy with the same layout
    assert app.extensions["babel"].translation_directories == [str(PO.parents[2])]
    monkeypatch.setattr(app.extensions["babel"], "translation_directories", [str(tmp_path)])
    monkeypatch.setattr(babel.domain_instance, "cache", {})  # translations are cached per locale

    clock(2026, 5, 28, 9, 0)
    user = make_user("zhangsan", "张三")
    meeting = make_meeting(user, starts=(2026, 6, 1, 10, 0))  # a Monday
    refused = client.post("/login", data={"username": "zhangsan", "password": "wrong"})
    assert "登录失败[测试译文]" in refused.get_data(as_text=True)
    login_as(user)
    html = client.get("/").get_data(as_text=True)
    assert "控制台[测试译文]" in html and ">工作台<" not in html
    assert "星期一[测试译文]" in html
    html = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f"共{len(meeting.participants)}位[测试译文]" in html
    form = {"topic": "", "goal": "对齐预算口径", "scenario": "problem", "starts_at": "2026-06-02T10:00",
            "ends_at": "2026-06-02T11:00", "location": "会议室", "organizer_department_id": str(user.department_id)}
    refused = client.post("/meetings/new", data=form)
    assert refused.status_code == 422 and "主题必填[测试译文]" in refused.get_data(as_text=True)
    created = client.post("/meetings/new", data={**form, "topic": "预算对齐"})
    assert created.status_code == 303
    assert "已建[测试译文]" in client.get(created.headers["Location"]).get_data(as_text=True)


def test_without_a_changed_catalog_pages_show_the_chinese_source(app, client, make_user, make_meeting, login_as,
                                                                 clock):
    clock(2026, 5, 28, 9, 0)
    user = make_user("lisi", "<b>李四</b>")  # user data inside a translated message stays escaped
    meeting = make_meeting(user, starts=(2026, 6, 1, 10, 0))
    login_as(user)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r">\s*工作台\s*<", html) and "周一" in html
    assert "[测试译文]" not in html
    html = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert 'aria-label="移除&lt;b&gt;李四&lt;/b&gt;"' in html
    assert "<b>李四</b>" not in html
