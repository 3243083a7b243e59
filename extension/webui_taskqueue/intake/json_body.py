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

from ..records.errors import PayloadError, error

MAX_DEPTH = 32  # a webui payload nests 3 levels deep (override_settings, comments)
MAX_ITEMS = 10_000  # in one array or object: a webui payload has tens
_SURROGATE = re.compile("[\ud800-\udfff]")
# what a surrogate comes from: an escape \uD800-\uDFFF, or UTF-8 bytes of one (which
# Python's json decodes, as "surrogatepass"); a body without either holds none
_MAY_HOLD_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


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
    problems = problems_of(value, strings=bool(_MAY_HOLD_SURROGATE.search(raw)))
    if problems:
        raise PayloadError(problems)
    return value


def problems_of(value: Any, strings: bool = True) -> List[dict]:
    """Errors (FastAPI's shape, loc the path from the body) for every value that
    JSON cannot carry back out. Without recursion, so depth costs no stack, and
    with a path made only where needed: a long array costs no memory.
    `strings=False`: the body cannot hold a surrogate (see parse); skip that search."""
    problems: List[dict] = []
    stack = [(value, ("body",))]
    while stack:
        item, loc = stack.pop()
        if not isinstance(item, (dict, list)):
            children = [(None, item)]
        elif len(loc) > MAX_DEPTH:  # the body itself is level 1
            return [{"loc": list(loc[:2]), "msg": f"nests deeper than {MAX_DEPTH} levels", "type": "value_error.depth"}]
        elif len(item) > MAX_ITEMS:
            problems.append(_problem(loc, f"has {len(item)} items; at most {MAX_ITEMS} are taken"))
            continue
        else:
            children = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in children:  # (a hot loop: a body may hold millions of values)
            kind = type(child)
            if kind is str:
                if strings and _SURROGATE.search(child):
                    problems.append(_problem(_at(loc, key), "holds a lone UTF-16 surrogate (an escape like \\ud800 that is half a character)"))
            elif kind is float:
                if not math.isfinite(child):
                    problems.append(_problem(_at(loc, key), f"must be a finite number, got {child}"))
            elif kind is dict or kind is list:
                stack.append((child, loc + (key,)))
            if strings and type(key) is str and _SURROGATE.search(key):
                problems.append(_problem(loc + (_printable(key),), "the key holds a lone UTF-16 surrogate (half a character)"))
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


def _at(loc: tuple, key: Any) -> tuple:
    return loc if key is None else loc + (key,)


def _problem(loc: tuple, msg: str) -> dict:
    return {"loc": list(loc), "msg": msg, "type": "value_error"}


def _printable(text: str) -> str:
    """A key as an error can show it: surrogates as their \\u escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
