"""The layers docs/DEVELOPING.md draws, kept by reading the sources: services compose no presentation."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What turns a template into text: Flask's helpers and the Jinja environment's loader.
RENDERING = {"render_template", "render_template_string", "stream_template", "get_template", "from_string"}


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names)
    return names


def test_no_service_renders_a_template():
    """Rules live in service.py (and the modules a service is split into: reminders, sending, signoff…); the
    words and templates of a message live in the domain's mail.py, pages in its views."""
    services = [p for p in (ROOT / "minutes").rglob("*.py")
                if p.name == "service.py" or p.name in {"reminders.py", "sending.py", "signoff.py", "drafting.py"}]
    assert len(services) > 10
    rendering = {str(p.relative_to(ROOT)): sorted(_names_used(p) & RENDERING) for p in services}
    assert {path: names for path, names in rendering.items() if names} == {}


def test_web_imports_no_views():
    tree = ast.parse((ROOT / "minutes" / "web.py").read_text(encoding="utf-8"))
    modules = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    modules += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert [m for m in modules if m.endswith("views")] == []
