"""The XSS corpus (tests/security/xss_payloads.txt) and the two ways to tell that a payload got through.

`payloads()` reads the corpus. `DOM_PROBE` is a JavaScript function for a page already rendered in
Chromium: it lists every trace an executed or injected payload leaves (a `window.__xss*` global, an
element with an `xss*` id or `data-xss`, an `on*` attribute, a script-capable URL, an active tag, an htmx
attribute that would request /logout or /xss* or run code — the text of hx-confirm is only shown by
window.confirm, so payload text there is harmless —, a template expression that was evaluated). The app itself never
produces any of these, so the list must be empty on every page. `raw_injections(html)` applies the same
rules to a response's raw HTML, for outputs that are checked without a browser.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

CORPUS = Path(__file__).with_name("xss_payloads.txt")
#: The longest payload fits the shortest text field (a user's name: 64 characters).
MAX_PAYLOAD = 64


def payloads() -> list[str]:
    """The payloads, in file order ('\\n' written in the file stands for a line break)."""
    out = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("# "):
            continue
        out.append(line.replace("\\n", "\n"))
    return out


def pack(items: list[str], limit: int, sep: str = " ") -> list[str]:
    """Join payloads into as few strings of at most `limit` characters as possible (each payload whole)."""
    packs: list[str] = []
    for item in items:
        if packs and len(packs[-1]) + len(sep) + len(item) <= limit:
            packs[-1] += sep + item
        else:
            packs.append(item)
    return packs


#: What an evaluated template expression of the corpus turns into (tpl69{{7*7}} → tpl6949, config → <Config).
EVALUATED = r"tpl(69|70|71|72)49|<Config |SECRET_KEY"

#: Tags the app never renders: any one in a page was injected.
FOREIGN_TAGS = ["iframe", "frame", "object", "embed", "base", "marquee", "math", "svg", "img", "video", "audio",
                "source", "animate", "foreignobject", "style"]
#: Tags the app renders itself, but never inside user content.
FORM_TAGS = ["input", "select", "textarea", "button", "form", "details"]
URL_ATTRS = ["href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"]
#: Characters a browser ignores or that hide a scheme ("java\u200bscript:").
INVISIBLE = r"\u0000-\u0020\u007f-\u00a0\u200b-\u200f\u2028-\u202e\ufeff"

DOM_PROBE = """() => {
  const found = [];
  const foreign = %(foreign)s, formTags = %(form)s, urlAttrs = %(urls)s;
  for (const key of Object.getOwnPropertyNames(window)) if (key.startsWith('__xss')) found.push('global ' + key);
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    const where = tag + (el.id ? '#' + el.id : '');
    if (el.id && /^xss/i.test(el.id)) found.push('injected element ' + where);
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase(), value = attr.value;
      if (name.startsWith('on')) found.push(`event handler ${where}[${name}]`);
      if (name === 'data-xss' || name === 'srcdoc') found.push(`injected attribute ${where}[${name}]`);
      if (/^(data-)?hx-/.test(name) && !/-(confirm|prompt)$/.test(name) && /\\/xss\\d|\\/logout|alert\\(/.test(value))
        found.push(`htmx attribute ${where}[${name}=${value}]`);
      if (urlAttrs.includes(name)) {
        const url = value.replace(/[%(invisible)s]/g, '');
        if (/^(javascript|vbscript|data):/i.test(url)) found.push(`script URL ${where}[${name}=${value}]`);
        if (/\\/xss\\d/i.test(url)) found.push(`trap URL ${where}[${name}=${value}]`);
      }
    }
    if (foreign.includes(tag)) found.push('foreign tag ' + where);
    if (formTags.includes(tag) && el.closest('[hx-disable]')) found.push('form tag in user content ' + where);
    if (el.classList.contains('md') && !el.closest('[hx-disable]')) found.push('sanitized HTML outside hx-disable');
    if (tag === 'script' && !/^\\/static\\//.test(el.getAttribute('src') || '')) found.push('script not from /static/');
    if (tag === 'link' && !/^\\/static\\//.test(el.getAttribute('href') || '')) found.push('foreign link');
    if (tag === 'meta' && el.hasAttribute('http-equiv')) found.push('meta http-equiv');
  }
  if (/%(evaluated)s/.test(document.body ? document.body.innerText : '')) found.push('template expression evaluated');
  return found;
}""" % {"foreign": FOREIGN_TAGS, "form": FORM_TAGS, "urls": URL_ATTRS, "invisible": INVISIBLE, "evaluated": EVALUATED}
_INVISIBLE = re.compile(f"[{INVISIBLE}]")


class _Scan(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.user_depth = 0  # inside an element with hx-disable (rendered user content)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in FOREIGN_TAGS:
            self.found.append(f"tag <{tag}>")
        if tag in FORM_TAGS and self.user_depth:
            self.found.append(f"form tag in user content <{tag}>")
        if tag == "script" and not (attrs.get("src") or "").startswith("/static/"):
            self.found.append("script not from /static/")
        if tag == "link" and not (attrs.get("href") or "").startswith("/static/"):
            self.found.append("foreign link")
        if tag == "meta" and "http-equiv" in attrs:
            self.found.append("meta http-equiv")
        for name, value in attrs.items():
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"event handler <{tag} {name}>")
            if name in ("data-xss", "srcdoc") or (name == "id" and value.lower().startswith("xss")):
                self.found.append(f"injected <{tag} {name}={value}>")
            if (name.startswith(("hx-", "data-hx-")) and not name.endswith(("-confirm", "-prompt"))
                    and re.search(r"/xss\d|/logout|alert\(", value)):
                self.found.append(f"htmx <{tag} {name}={value}>")
            if name in URL_ATTRS:
                url = _INVISIBLE.sub("", value)
                if re.match(r"(javascript|vbscript|data):", url, re.I) or re.search(r"/xss\d", url, re.I):
                    self.found.append(f"URL <{tag} {name}={value}>")


def raw_injections(html: str) -> list[str]:
    """Traces of live payload markup in raw HTML (escaped text and attribute values are harmless)."""
    scan = _Scan()
    scan.feed(html)
    scan.close()
    if re.search(EVALUATED, re.sub(r"<[^>]*>", "", html)):
        scan.found.append("template expression evaluated")
    return scan.found
