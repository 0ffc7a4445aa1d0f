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


def _sources():
    """The project's modules a reader maintains: not the migrations (generated, one per schema change)."""
    return [p for p in (ROOT / "minutes").rglob("*.py") if "migrations" not in p.parts]


def test_no_module_is_over_600_lines():
    """A module a newcomer can read in one sitting (issue 17): split by job before it grows past 600 lines."""
    long = {str(p.relative_to(ROOT)): n for p in _sources()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert long == {}


def test_imports_inside_functions_are_few_and_say_why():
    """A project import inside a function hides an upward dependency: at most 15, each with a one-line reason
    (a comment on its line) saying why it cannot be at the top."""
    inside = []
    for path in _sources():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for function in ast.walk(ast.parse(source)):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                project = (isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("minutes"))
                           or isinstance(node, ast.Import) and any(a.name.startswith("minutes") for a in node.names))
                if project:
                    inside.append((str(path.relative_to(ROOT)), node.lineno, "#" in lines[node.lineno - 1]))
    assert len(inside) <= 15
    assert [(path, line) for path, line, reason in inside if not reason] == []
