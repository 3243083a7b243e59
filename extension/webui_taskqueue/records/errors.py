"""Bad input, in FastAPI's error shape, so clients handle ours and webui's the same way."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class NotFound(Exception):
    """No such task, or another user's (which answers the same)."""


class Conflict(Exception):
    """The task is not in a state that allows this."""


class PayloadError(Exception):
    """Bad input: `errors` is FastAPI's list of {loc, msg, type}."""

    def __init__(self, errors: List[Dict[str, Any]], status_code: int = 422):
        super().__init__("; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in errors))
        self.errors = errors
        self.status_code = status_code


def error(field: Optional[str], msg: str, kind: str = "value_error") -> Dict[str, Any]:
    return {"loc": ["body", field] if field else ["body"], "msg": msg, "type": kind}
