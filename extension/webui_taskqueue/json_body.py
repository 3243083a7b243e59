"""A request body as JSON that every later step can store, show and run, or the
reasons it is not, naming where in the body each one is.

Python's json module accepts more than JSON does: NaN and Infinity, numbers that
overflow to infinity (1e999), and lone UTF-16 surrogates from escapes like "\\ud800",
which no UTF-8 encoder can write back (a task holding one could never be listed).
It also recurses once per nesting level. These are refused here, once, for every
route that reads a body. Pure Python: no webui, no FastAPI."""

from __future__ import annotations

import json
import math
import re
from email.message import Message
from typing import Any, List, Optional

from .errors import PayloadError, error

MAX_DEPTH = 32  # a webui payload nests 3 levels deep (override_settings, comments)
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse(raw: bytes, content_type: Optional[str] = None) -> Any:
    """The body's value, or PayloadError: 415 for a body that is not declared JSON,
    422 for one that is not JSON or holds what cannot be stored (see the module)."""
    _check_media_type(content_type)
    try:
        value = json.loads(raw or b"null")
    except RecursionError:
        raise PayloadError([error(None, f"the body nests deeper than {MAX_DEPTH} levels", "value_error.jsondecode")]) from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise PayloadError([error(None, f"the body is not valid JSON: {e}", "value_error.jsondecode")]) from None
    problems = problems_of(value)
    if problems:
        raise PayloadError(problems)
    return value


def problems_of(value: Any) -> List[dict]:
    """Errors (FastAPI's shape, loc the path from the body) for every value that
    JSON cannot carry back out; without recursion, so depth costs no stack."""
    problems: List[dict] = []
    stack = [(value, ["body"])]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, (dict, list)) and len(loc) > MAX_DEPTH:  # the body itself is level 1
            return [{"loc": loc[:2], "msg": f"nests deeper than {MAX_DEPTH} levels", "type": "value_error.depth"}]
        if isinstance(item, str):
            if _SURROGATE.search(item):
                problems.append(_problem(loc, "holds a lone UTF-16 surrogate (an escape like \\ud800 that is half a character)"))
        elif isinstance(item, float):
            if not math.isfinite(item):
                problems.append(_problem(loc, f"must be a finite number, got {item}"))
        elif isinstance(item, dict):
            for key, child in item.items():
                if _SURROGATE.search(key):
                    problems.append(_problem(loc + [_printable(key)], "the key holds a lone UTF-16 surrogate (half a character)"))
                else:
                    stack.append((child, loc + [key]))
        elif isinstance(item, list):
            stack.extend((child, loc + [i]) for i, child in enumerate(item))
    return sorted(problems, key=lambda p: [str(part) for part in p["loc"]])


def _check_media_type(content_type: Optional[str]) -> None:
    if not content_type:
        return  # curl --data-binary and many scripts send none: read it as JSON
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    if message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json")):
        return
    raise PayloadError([{
        "loc": ["header", "content-type"], "type": "value_error.media_type",
        "msg": f"the body must be JSON, sent with Content-Type: application/json (got {content_type[:100]!r})",
    }], 415)


def _problem(loc: list, msg: str) -> dict:
    return {"loc": loc, "msg": msg, "type": "value_error"}


def _printable(text: str) -> str:
    """A key as an error can show it: surrogates as their \\u escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
