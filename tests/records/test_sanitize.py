"""What a user types can never run script in another user's browser (one sanitizer, every output path)."""
import re
from pathlib import Path

import pytest

from minutes.extensions import db
from minutes.records import drafting, render, signoff

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "[点我](javascript:alert(1))",
    "[点我](JaVaScRiPt:alert(1))",
    "[点我](&#106;avascript:alert(1))",
    "![图](javascript:alert(1))",
    "![图](x \"onerror=alert(1)\")",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<div hx-get=\"/logout\" hx-trigger=\"load\">x</div>",
    "<span data-hx-post=\"/x\" hx-on:click=\"alert(1)\">x</span>",
    "<p style=\"background:url(javascript:alert(1))\">x</p>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<form action=\"/logout\"><button>x</button></form>",
    "<input autofocus onfocus=alert(1)>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"https://evil.example/\">",
    "<link rel=stylesheet href=\"https://evil.example/x.css\">",
    "```\n<script>alert(1)</script>\n```",
    "<div class=\"md diff-ins\" id=\"x\" onclick=\"alert(1)\">x</div>",
    "\u202e<script>alert(1)</script>",
]


def dangerous(html: str) -> list[str]:
    """Live markup that could act: tags, handlers, script URLs, htmx attributes (escaped text is harmless)."""
    problems = []
    if re.search(r"<\s*(script|iframe|object|embed|svg|math|style|form|input|meta|base|link|img|body)\b", html, re.I):
        problems.append("tag")
    if re.search(r"<[^>]*\son\w+\s*=", html, re.I):
        problems.append("handler")
    if re.search(r"<[^>]*\b(href|src|action|data)\s*=\s*[\"']?\s*(javascript|vbscript|data):", html, re.I):
        problems.append("url")
    if re.search(r"<[^>]*\s(data-)?hx-[\w:-]+\s*=", html, re.I):
        problems.append("htmx")
    if re.search(r"<[^>]*\sstyle\s*=", html, re.I):
        problems.append("style")
    return problems


def documents(html: str) -> list[str]:
    """The rendered minutes documents in a page (between the wrapper and its end marker)."""
    return re.findall(r'<div class="minutes-doc" hx-disable>(.*?)<!-- /minutes-doc -->', html, re.S)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_html_neutralizes_payload(payload):
    assert dangerous(str(render.markdown_html(f"正文\n\n{payload}\n"))) == []


def test_safe_markdown_survives():
    html = str(render.markdown_html("## 标题\n\n- **加粗** [链接](https://intranet.example/x)\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<h2>标题</h2>" in html and "<strong>加粗</strong>" in html and "<table>" in html
    assert 'href="https://intranet.example/x"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_payloads_in_the_minutes_do_not_reach_any_page(recorded, clock, client, login_as, smtp_server):
    from minutes.notify.delivery import deliver_pending

    r = recorded()
    clock(2026, 6, 18, 16, 0)
    minutes = drafting.draft_from_record(r.recorder, r.meeting)
    body = minutes.draft_body + "\n" + "\n\n".join(PAYLOADS) + "\n"
    version = signoff.distribute(r.recorder, r.meeting, markdown=body, revision=minutes.draft_revision)
    signoff.respond(r.member, version.id, "change", "<script>alert('comment')</script><img src=x onerror=alert(2)>")
    db.session.commit()
    login_as(r.recorder)
    pages = [f"/meetings/{r.meeting.id}/minutes", f"/minutes/versions/{version.id}",
             f"/minutes/versions/{version.id}/print"]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        docs = documents(html)
        assert docs and all(dangerous(doc) == [] for doc in docs), url
        assert "<script>alert" not in html and "<img src=x" not in html, url
    fragment = client.post(f"/meetings/{r.meeting.id}/minutes/preview", data={"markdown": body},
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert dangerous(fragment) == []
    deliver_pending()
    asks = [m for m in smtp_server.wait_for(7) if "待确认" in m["msg"]["Subject"]]
    assert len(asks) == 6
    for message in asks:
        html_part = message["msg"].get_body(("html",)).get_content()
        document = html_part[html_part.index("<div hx-disable>"):html_part.rindex("</div>")]
        assert dangerous(document) == [] and "点我" in document  # the text survives, the link does not


def test_no_template_of_the_minutes_marks_text_safe():
    root = Path(__file__).resolve().parents[2] / "templates" / "records"
    for path in root.glob("*.html"):
        assert "|safe" not in path.read_text(encoding="utf-8").replace(" ", ""), path.name


def test_style_and_math_are_dropped_with_their_content_and_the_text_after_them_stays():
    html = str(render.markdown_html("前文\n\n<style>body{display:none}</style>\n\n"
                                    "<math><mi>x</mi><mo>=</mo><mn>1</mn></math>\n\n<svg><desc>图</desc></svg>后文"))
    assert "前文" in html and "后文" in html
    assert not re.search(r"<\s*/?\s*(style|math|svg|mi|mo|mn|desc)\b", html)
    assert "display:none" not in html and "<mi>" not in html and "图" not in html


SWALLOWING = ["style", "script", "math", "svg", "template", "mi", "mo", "mn", "ms", "mtext", "mglyph", "malignmark",
              "annotation-xml", "desc", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
              "plaintext", "STYLE", "Style type=\"text/css\""]


@pytest.mark.parametrize("tag", SWALLOWING)
def test_a_tag_opened_and_never_closed_is_text_and_hides_nothing_after_it(tag):
    html = str(render.markdown_html(f"我们讨论了 <{tag}> 的写法\n\n## 下一议题\n\n后面的每一句都在"))
    assert f"我们讨论了 &lt;{tag.split()[0]}" in html and "的写法" in html  # shown as typed
    assert "<h2>下一议题</h2>" in html and "<p>后面的每一句都在</p>" in html
    assert dangerous(html) == []


def test_the_mutation_payload_keeps_the_rest_of_the_minutes():
    html = str(render.markdown_html("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>\n\n后文仍在"))
    assert "后文仍在" in html and dangerous(html) == []
