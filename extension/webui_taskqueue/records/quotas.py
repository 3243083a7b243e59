"""Per-user limits: what applies to a user, and what a request would go beyond.

Pure functions over plain data. The two limits that count tasks (queued at once,
submitted per hour) are checked by the store in the same transaction that adds the
task, so that concurrent submits cannot slip past them together."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Optional

from .users import LIMIT_NAMES, Usage, User


class QuotaExceeded(Exception):
    """A counting limit (max_queued, max_per_hour) is reached: 429."""

    def __init__(self, limit: str, allowed: int, usage: Usage, retry_after: Optional[int] = None):
        self.limit, self.allowed, self.usage, self.retry_after = limit, allowed, usage, retry_after
        have = usage.queued if limit == "max_queued" else usage.last_hour
        tasks = "task" if have == 1 else "tasks"
        what = {"max_queued": f"{tasks} queued at once", "max_per_hour": f"{tasks} submitted in the last hour"}[limit]
        super().__init__(f"you have {have} {what}; your limit {limit} is {allowed}")

    def detail(self) -> List[Dict[str, Any]]:
        return [{
            "loc": ["body"], "msg": str(self), "type": f"limit.{self.limit}",
            "ctx": {"limit": self.limit, "allowed": self.allowed, "usage": dataclasses.asdict(self.usage)},
        }]


def effective(user: User, defaults: Dict[str, Any]) -> Dict[str, Any]:
    """The limits that apply to `user`: their own, else the default; 0 or empty: none.
    Admins are not limited."""
    if user.is_admin:
        return {name: None for name in LIMIT_NAMES}
    out = {}
    for name in LIMIT_NAMES:
        value = user.limits.get(name)
        if value is None:
            value = defaults.get(name)
        out[name] = value or None  # 0 and [] mean no limit
    return out


def request_errors(params: Dict[str, Any], checkpoints: List[str], limits: Dict[str, Any],
                   allowed: Callable[[str], bool], usage: Usage) -> List[Dict[str, Any]]:
    """Errors (FastAPI's shape) for what a request asks beyond the user's limits.
    `checkpoints`: the resolved titles the task would load; `allowed(title)`."""
    errors = []
    ctx = {"usage": dataclasses.asdict(usage)}

    def over(field, limit, asked, msg):
        errors.append({"loc": ["body", field], "msg": msg, "type": f"limit.{limit}",
                       "ctx": {"limit": limit, "allowed": limits[limit], "asked": asked, **ctx}})

    steps = params.get("steps", 50)  # webui's default
    if params.get("enable_hr"):
        steps = max(steps, params.get("hr_second_pass_steps") or 0)
    if limits["max_steps"] and steps > limits["max_steps"]:
        over("steps", "max_steps", steps, f"{steps} steps is over your limit max_steps={limits['max_steps']}")

    width, height = params.get("width", 512), params.get("height", 512)
    if params.get("enable_hr"):
        width, height = _hires_size(params, width, height)
    if limits["max_pixels"] and width * height > limits["max_pixels"]:
        over("width", "max_pixels", width * height,
             f"{width}x{height} = {width * height} pixels is over your limit max_pixels={limits['max_pixels']}")

    images = params.get("batch_size", 1) * params.get("n_iter", 1)
    if limits["max_images"] and images > limits["max_images"]:
        over("batch_size", "max_images", images,
             f"batch_size x n_iter = {images} images is over your limit max_images={limits['max_images']}")

    if limits["checkpoints"]:
        for title in checkpoints:
            if not allowed(title):
                over("checkpoint", "checkpoints", title,
                     f"checkpoint {title!r} is not among those you may use: {', '.join(limits['checkpoints'])}")
    return errors


def _hires_size(params: Dict[str, Any], width: int, height: int):
    x, y = params.get("hr_resize_x") or 0, params.get("hr_resize_y") or 0
    if x or y:
        return x or int(width * y / height), y or int(height * x / width)
    scale = params.get("hr_scale", 2.0)
    return int(width * scale), int(height * scale)
