"""Characters and shapes no input may carry, whatever the field: found before any view reads the request."""
import re

#: NUL cannot be stored (PostgreSQL refuses it in text); a lone surrogate cannot be encoded as UTF-8 (the
#: database driver raises); neither is ever typed by a person.
NUL = "nul"
SURROGATE = "surrogate"
TOO_DEEP = "too_deep"

#: The deepest JSON a request body may nest: the API's own bodies go three levels down.
MAX_JSON_DEPTH = 32

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """NUL or SURROGATE when the text carries one, else None."""
    if "\x00" in text:
        return NUL
    if _SURROGATE.search(text):
        return SURROGATE
    return None


def json_problem(value, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """The first problem in a parsed JSON value (its keys and strings, its depth), else None.

    Walks without recursion, so a deep document is refused rather than exhausting the stack.
    """
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                return problem
        elif isinstance(node, (dict, list)):
            if depth > max_depth:
                return TOO_DEEP
            if isinstance(node, dict):
                for key, item in node.items():
                    stack.append((key, depth))
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in node)
    return None
