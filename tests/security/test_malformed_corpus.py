"""Malformed requests to every route of `app.url_map`: no 5xx, whoever sends them.

Every rule and every method it allows gets, as a logged-in host, as an administrator and with a Bearer
token: path parameters that exist, do not exist, overflow the database's integer, carry NUL or a lone
surrogate; query strings and form fields with NUL, undecodable bytes, very long strings, impossible
dates ("2026-13-45"), huge numbers, empty strings and repeated values; JSON bodies that do not parse,
nest 100,000 deep, are not objects, or fill each field of the API's schema with the wrong thing.

The world is the access matrix's (`tests/security/test_access_matrix.py`), with its rule that nothing a
request does is kept: every request sees the same data.
"""
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from minutes.api.views import OPERATIONS
from minutes.extensions import db
from tests.security.test_access_matrix import EXPECT, _params, world  # noqa: F401  (world is a fixture)

SOURCES = Path(__file__).parents[2] / "minutes"
DEEP_JSON = "[" * 100_000 + "]" * 100_000
HUGE = 10**30

#: Every name a view or form reads from a query string or a form (`.get("x")`, `.getlist("x")`, `["x"]`).
FIELD_NAMES = sorted({name for path in [*SOURCES.glob("*/views.py"), *SOURCES.glob("*/forms.py")]
                      for name in re.findall(r'\.(?:get|getlist)\("([a-z_]+)"|\["([a-z_]+)"\]', path.read_text())
                      for name in name if name})

#: (label, value) for every field of a query string or a form at once
FIELD_VALUES = [("nul", "a\x00b"), ("long", "x" * 1001), ("bad_date", "2026-13-45"), ("huge", "9" * 30),
                ("empty", "")]
#: (label, raw URL-encoded value): bytes that are not UTF-8 (a lone surrogate's encoding)
RAW_VALUES = [("surrogate", "%ED%A0%80")]
#: what an administrator sends where the host was not refused (403): his own branches, not the input parsing again
ADMIN_SAMPLE = {"huge", "long", "schema_huge"}
#: routes that pass what was posted on to a vendor (DingTalk 免登's code): the world's vendors are unreachable
#: (127.0.0.1:9), so their answer to a well-formed request is 502 "无法连接…", the only 5xx allowed, and only here
VENDOR_ROUTES = {"/login/dingtalk/in-app"}
#: path parameters other than the existing object's
BAD_PATH_VALUES = ["999999", "0", str(2**31), "9" * 25, "-1", "%00", "%ED%A0%80", "x" * 300]


def _form_bodies(csrf: str) -> list[tuple[str, dict]]:
    bodies = [(label, {"data": {**{name: value for name in FIELD_NAMES}, "csrf_token": csrf}})
              for label, value in FIELD_VALUES]
    bodies += [(label, {"data": "&".join(f"{name}={raw}" for name in FIELD_NAMES) + f"&csrf_token={csrf}",
                        "content_type": "application/x-www-form-urlencoded"}) for label, raw in RAW_VALUES]
    bodies.append(("repeated", {"data": {**{name: ["²", "-1", ""] for name in FIELD_NAMES}, "csrf_token": csrf}}))
    bodies.append(("deep_json", {"data": DEEP_JSON, "content_type": "application/json"}))
    return bodies


def _typed(schema: dict, kind: str):
    """A value for a schema property that passes its type and carries the malformed input `kind`."""
    if "enum" in schema:
        return schema["enum"][0]
    types = schema.get("type", "string")
    kind_of = types if isinstance(types, str) else types[0]
    if kind_of == "array":
        return [_typed(schema.get("items", {}), kind)]
    if kind_of == "object":
        return {name: _typed(prop, kind) for name, prop in schema.get("properties", {}).items()}
    if kind_of == "integer":
        return {"huge": HUGE, "bad_date": -1, "empty": 0, "long": -HUGE}[kind]
    if kind_of == "boolean":
        return True
    return {"huge": "9" * 30, "bad_date": "2026-13-45", "empty": "",
            "long": "x" * schema.get("maxLength", 3000)}[kind]


def _json_bodies(schema: dict | None) -> list[tuple[str, dict]]:
    raw = [("bad_json", '{"topic": '), ("deep_json", DEEP_JSON), ("not_an_object", '[1, "a", null]'),
           ("null", "null"), ("huge_float", '{"minutes": 1e999, "version": -1e999}'),
           ("surrogate", '{"title": "\\ud800", "text": "\\udfff"}')]
    bodies = [(label, {"data": text, "content_type": "application/json"}) for label, text in raw]
    if schema is not None:
        for kind in ("huge", "bad_date", "empty", "long"):
            bodies.append((f"schema_{kind}", {"json": _typed(schema, kind)}))
        if schema.get("type") == "object":
            bodies.append(("wrong_types", {"json": {name: {"a": [1]} for name in schema.get("properties", {})}}))
    return bodies


def _queries(names) -> list[tuple[str, str]]:
    from urllib.parse import quote

    if not names:
        return [("no_query", "")]
    queries = [(label, "&".join(f"{name}={quote(value)}" for name in names)) for label, value in FIELD_VALUES]
    queries += [(label, "&".join(f"{name}={raw}" for name in names)) for label, raw in RAW_VALUES]
    queries.append(("repeated", "&".join(f"{name}=%C2%B2&{name}=-1" for name in names)))  # ² isdigit(), not int()
    return queries


def _path(rule, values: dict) -> str:
    return re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)


def test_no_malformed_request_gets_a_server_error(world, _app):  # noqa: F811
    # the API refuses unknown parameters and fields: it gets its own names, typed as its schema says
    operations = {f"api.{op['operationId']}": op for op in OPERATIONS}
    identities = {"host": {"client": world.clients["host"], "headers": {"X-CSRFToken": world.csrf["host"]}},
                  "admin": {"client": world.clients["admin"], "headers": {"X-CSRFToken": world.csrf["admin"]}},
                  "bearer": {"client": _app.test_client(),
                             "headers": {"Authorization": f"Bearer {world.api_tokens['host']}"}}}
    csrfs = {who: world.csrf.get(who, "") for who in identities}
    sent, statuses, routes, failures, refused_to_host = 0, Counter(), set(), [], set()
    started, cpu = time.monotonic(), time.process_time()

    def send(who, method, url, label, body=None):
        nonlocal sent
        identity = identities[who]
        client = identity["client"]
        saved = dict(client._cookies)
        sent += 1
        try:
            stream = url.split("?")[0].endswith("/events")  # read the answer's status, not the endless stream
            response = client.open(url, method=method, headers=identity["headers"], buffered=not stream,
                                   **(body or {}))
            status = response.status_code
            response.close()
        except Exception as exc:  # the test client re-raises what the app did not handle (TESTING)
            status, response = 500, None
            failures.append(f"{who} {method} {url[:120]} [{label}]: {type(exc).__name__}: {str(exc)[:200]}")
        finally:
            client._cookies.clear()
            client._cookies.update(saved)
        statuses[status // 100 * 100] += 1
        if response is not None and status >= 500 and not (status == 502 and url.split("?")[0] in VENDOR_ROUTES):
            failures.append(f"{who} {method} {url[:120]} [{label}]: {status}")
        db.session.rollback()
        return status

    for rule in sorted(_app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        case = EXPECT.get(rule.endpoint)
        good = _path(rule, _params(world, rule, "public", case.stage if case else "plan"))
        api = rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.add((rule.rule, method))
            for who in ("host", "bearer", "admin"):
                if api != (who == "bearer"):  # the other kind of client: refused before any view reads input
                    send(who, method, good, "wrong_client")
                    continue
                op = operations.get(rule.endpoint, {})
                if method == "GET":
                    corpus = _queries(list(op.get("query", {})) if api else FIELD_NAMES)
                else:
                    corpus = _json_bodies(op.get("body")) if api else _form_bodies(csrfs[who])
                if who == "admin" and (rule.rule, method) not in refused_to_host:
                    # the host's run read this input already: the administrator's own branches get a sample
                    corpus = [entry for entry in corpus if entry[0] in ADMIN_SAMPLE]
                for label, extra in corpus:
                    if method == "GET":
                        status = send(who, method, f"{good}?{extra}", label)
                    else:
                        status = send(who, method, good, label, extra)
                    if who == "host" and status == 403:
                        refused_to_host.add((rule.rule, method))
                if who != "admin" and rule.arguments:
                    for value in BAD_PATH_VALUES:
                        send(who, method, _path(rule, dict.fromkeys(rule.arguments, value)), f"path={value[:12]}")
    print(f"\nmalformed corpus: {sent} requests to {len(routes)} route-methods ({len(list(_app.url_map.iter_rules()))} "
          f"rules) in {time.monotonic() - started:.1f} s ({time.process_time() - cpu:.1f} s CPU); "
          f"statuses {dict(sorted(statuses.items()))}")
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:60])
