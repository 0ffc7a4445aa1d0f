"""User text becomes HTML in one place only: records.render.safe_html (the sanitizer). Nowhere else is
text marked safe: no `|safe` or `{% autoescape false %}` in a template, no `Markup(...)` in the code."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_template_marks_text_safe():
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false", text), path.relative_to(ROOT)


def test_markup_is_made_only_by_the_sanitizer():
    makers = [str(path.relative_to(ROOT)) for path in (ROOT / "minutes").rglob("*.py")
              if re.search(r"\bMarkup\s*\(", path.read_text(encoding="utf-8"))]
    assert makers == ["minutes/records/render.py"]
