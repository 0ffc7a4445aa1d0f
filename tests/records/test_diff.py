"""The diff between two versions: word-level for Chinese (per character), Latin words whole."""
from minutes.extensions import db
from minutes.records import drafting, reading, render, signoff


def test_tokenize_splits_cjk_per_character_and_keeps_latin_words():
    assert render.tokenize("Q3产品上线 v1.2 ok") == ["Q3", "产", "品", "上", "线", " ", "v1.2", " ", "ok"]


def test_word_diff_marks_inserted_and_deleted_characters():
    html, stats = render.word_diff("客服部需在1小时内补充问题描述", "客服部需在2小时内补充完整问题描述")
    assert str(html) == ('<div class="diff-line diff-changed">客服部需在<del class="diff-del">1</del>'
                         '<ins class="diff-ins">2</ins>小时内补充<ins class="diff-ins">完整</ins>问题描述</div>')
    assert stats == {"inserted": 3, "deleted": 1, "changes": 2}


def test_unchanged_lines_fold_away_around_the_changes():
    old = "\n".join(f"第{i}行" for i in range(1, 21))
    new = old.replace("第10行", "第10行（改）")
    folded, _ = render.word_diff(old, new)
    assert str(folded).count('class="diff-line') == 5  # the change and two lines either side
    assert str(folded).count("⋯ 7 行未修改 ⋯") == 1 and str(folded).count("⋯ 8 行未修改 ⋯") == 1
    full, _ = render.word_diff(old, new, context=None)
    assert str(full).count('class="diff-line') == 20 and "未修改" not in str(full)


def test_word_diff_changes_latin_words_as_words():
    html, _ = render.word_diff("deadline is Friday", "deadline is Monday")
    assert '<del class="diff-del">Friday</del><ins class="diff-ins">Monday</ins>' in str(html)


def test_word_diff_escapes_what_users_typed():
    html, _ = render.word_diff("安全", "安全<script>alert(1)</script><img src=x onerror=alert(1)>")
    assert "<script" not in str(html) and "<img" not in str(html)
    assert "&lt;script&gt;" in str(html)


def test_diff_between_versions_includes_table_rows(recorded, clock, client, login_as):
    r = recorded()
    clock(2026, 6, 18, 16, 0)
    drafting.draft_from_record(r.recorder, r.meeting)
    v1 = signoff.distribute(r.recorder, r.meeting)
    change = signoff.respond(r.member, v1.id, "change", "议题三应注明改期讨论")
    body = v1.body.replace("本议题未记录讨论要点。", "本议题时间不足，改期至下次协调会讨论。")
    r.actions[0].status = r.actions[0].status.__class__("in_progress")
    signoff.revise(r.recorder, r.meeting, body, answers=[change.id])
    db.session.commit()
    diff = reading.diff(r.late, r.meeting, 1, 2)
    html = str(diff.html)
    assert ('本议题<del class="diff-del">未记录</del><ins class="diff-ins">时间不足，改期至下次协调会</ins>'
            '讨论<del class="diff-del">要点</del>。') in html
    assert '<del class="diff-del">未开始</del><ins class="diff-ins">进行中</ins>' in html
    login_as(r.late)  # any invitee (here a participant) can see the diff
    page = client.get(f"/meetings/{r.meeting.id}/minutes/diff?a=1&b=2")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'class="diff" hx-disable id="diff"' in text and "第1版 → 第2版" in text
    assert "行未修改" in text and "会议主题" not in text  # only the changed stretches, unless asked
    full = client.get(f"/meetings/{r.meeting.id}/minutes/diff?a=1&b=2&full=1").get_data(as_text=True)
    assert "会议主题" in full
    assert client.get(f"/meetings/{r.meeting.id}/minutes/diff?a=1&b=9").status_code == 404


def test_word_diff_of_long_minutes_compares_only_the_changed_lines():
    import random
    import time

    rng = random.Random(7)
    words = "客服部需在小时内补充问题描述技术部法务部确认合同条款预算审批流程上线验收标准"
    lines = ["".join(rng.choice(words) for _ in range(rng.randint(20, 80))) for _ in range(700)]
    changed = list(lines)
    for i in rng.sample(range(700), 15):
        changed[i] = changed[i][:10] + "新增内容" + changed[i][10:]
    changed.insert(300, "插入一整行新的内容")
    started = time.perf_counter()
    html, stats = render.word_diff("\n".join(lines), "\n".join(changed))  # 35,000 characters each
    assert time.perf_counter() - started < 5  # token by token over the whole text took 7.5 s on a quiet box
    assert stats == {"inserted": 15 * 4 + 9, "deleted": 0, "changes": 16}
    assert str(html).count('class="diff-line diff-changed"') == 16 and '<ins class="diff-ins">插入一整行新的内容' in str(html)
