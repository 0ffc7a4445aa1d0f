"""Reading the export formats: Feishu 妙记 / DingTalk 闪记 headers, Tencent Meeting lines, plain text, subtitles, Word."""
import io

import docx
import pytest

from minutes.transcripts.parse import MAX_BYTES, TranscriptUnreadable, read_transcript
from minutes.transcripts.suggest import Person, match_person
from tests.transcripts.conftest import SAMPLES


def test_feishu_headers_carry_speaker_department_and_time_and_the_words_below():
    fmt, lines = read_transcript("妙记.txt", (SAMPLES / "feishu_30min.txt").read_bytes())
    assert fmt == "text" and len(lines) == 54 and lines[-1].seconds == 29 * 60 + 40
    assert (lines[2].speaker, lines[2].seconds) == ("张伟(技术部)", 72)
    assert lines[2].text.startswith("我先说一下技术部这边的情况。")
    # "那就确定下来：…" under a header is speech, not a speaker called 那就确定下来
    assert lines[34].speaker == "王主持" and lines[34].text.startswith("那就确定下来：")


def test_tencent_meeting_lines_with_time_first_or_after_the_name():
    data = "[00:01:23] 张伟：内容一\n李娜(技术部)(00:02:00)：内容二\n01:02:03 王五：内容三\n".encode()
    _, lines = read_transcript("腾讯会议.txt", data)
    assert [(l.seconds, l.speaker, l.text) for l in lines] == [
        (83, "张伟", "内容一"), (120, "李娜(技术部)", "内容二"), (3723, "王五", "内容三")]


def test_dingtalk_mm_ss_header_and_speaker_numbers():
    _, lines = read_transcript("闪记.txt", "说话人 1  01:23\n大家好\n王主持 02:05\n开始吧".encode())
    assert [(l.speaker, l.seconds, l.text) for l in lines] == [("说话人 1", 83, "大家好"), ("王主持", 125, "开始吧")]


def test_plain_text_in_gb18030_continues_a_turn_on_lines_without_a_speaker():
    _, lines = read_transcript("纪要.txt", "张伟：第一句\n接着说\n李娜：第二句".encode("gb18030"))
    assert [(l.speaker, l.text) for l in lines] == [("张伟", "第一句接着说"), ("李娜", "第二句")]


def test_srt_and_vtt_cues_with_the_speaker_as_prefix_or_voice():
    fmt, srt = read_transcript("dingtalk.srt", (SAMPLES / "dingtalk.srt").read_bytes())
    assert fmt == "srt" and [(l.seconds, l.speaker) for l in srt] == [(3, "王主持"), (40, "张伟"), (140, "王主持")]
    fmt, vtt = read_transcript("meeting.vtt", (SAMPLES / "meeting.vtt").read_bytes())
    assert fmt == "vtt" and [(l.seconds, l.speaker, l.text) for l in vtt] == [(l.seconds, l.speaker, l.text) for l in srt]


def test_docx_paragraphs_read_as_text():
    document = docx.Document()
    for row in ["王主持 00:00:05", "我们开始。", "张伟(技术部) 00:00:40", "技术部不同意。"]:
        document.add_paragraph(row)
    buffer = io.BytesIO()
    document.save(buffer)
    fmt, lines = read_transcript("会议.docx", buffer.getvalue())
    assert fmt == "docx" and [(l.speaker, l.text) for l in lines] == [("王主持", "我们开始。"), ("张伟(技术部)", "技术部不同意。")]


@pytest.mark.parametrize("name, data, reason", [
    ("a.txt", b"", "empty"),
    ("a.txt", b"  \n\n ", "empty"),
    ("a.txt", b"\x00\x01\x02binary" * 10, "binary"),
    ("a.docx", b"PK\x03\x04not really a zip", "bad_docx"),
    ("a.txt", "没有发言人的一段文字，没有冒号也没有时间".encode(), "no_turns"),
    ("a.txt", b"x" * (MAX_BYTES + 1), "too_large"),
], ids=["empty", "blank", "binary", "bad-docx", "no-speakers", "huge"])
def test_unreadable_files_are_refused_with_a_reason(name, data, reason):
    with pytest.raises(TranscriptUnreadable) as info:
        read_transcript(name, data)
    assert info.value.reason == reason


def test_a_docx_that_unpacks_into_too_much_is_refused():
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"0" * (60 * 1024 * 1024))
    assert len(buffer.getvalue()) < MAX_BYTES
    with pytest.raises(TranscriptUnreadable) as info:
        read_transcript("炸弹.docx", buffer.getvalue())
    assert info.value.reason == "too_large"


def test_speakers_match_invited_people_by_name_department_or_surname_and_title():
    people = [Person(1, "张伟", 10, "技术部"), Person(2, "张伟", 20, "产品部"), Person(3, "刘洋", 20, "产品部")]
    assert match_person("张伟(产品部)", people).id == 2
    assert match_person("张伟（技术部）", people).id == 1
    assert match_person("刘总", people).id == 3
    assert match_person("老刘", people).id == 3
    assert match_person("张总", people) is None  # two people called 张: nobody is guessed
    assert match_person("说话人 1", people) is None
