"""How long things take here, learned from the tasks that ran: seconds per unit of
work on each checkpoint, and seconds to switch to each checkpoint. ETAs are sums of
these (docs/turns.md, "Positions and ETAs"). Plain data, kept in the store between restarts."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ..records.checkpoints import Model, checkpoint_key
from ..records.tasks import Queued

SMOOTHING = 0.3  # weight of the newest measurement


def work_of(params: Dict[str, Any]) -> float:
    """Megapixel-steps a request asks for: width x height x steps x images, plus the
    hires pass. What generation time grows with, on the GPU and on the CPU alike."""
    width, height = params.get("width", 512), params.get("height", 512)
    steps, images = params.get("steps", 50), params.get("batch_size", 1) * params.get("n_iter", 1)
    work = width * height * steps
    if params.get("enable_hr"):
        scale = params.get("hr_scale", 2.0)
        hr_w, hr_h = params.get("hr_resize_x") or width * scale, params.get("hr_resize_y") or height * scale
        work += hr_w * hr_h * (params.get("hr_second_pass_steps") or steps)
    return max(work * images / 1e6, 1e-6)


class Speeds:
    def __init__(self, data: Optional[Dict[str, Any]] = None) -> None:
        data = data or {}
        # checkpoint (scheduler.checkpoint_key) -> seconds per unit of work; -> seconds to load it
        self.rate: Dict[str, float] = {checkpoint_key(k): v for k, v in data.get("rate", {}).items()}
        self.switch: Dict[str, float] = {checkpoint_key(k): v for k, v in data.get("switch", {}).items()}

    def to_dict(self) -> Dict[str, Any]:
        return {"rate": self.rate, "switch": self.switch}

    @property
    def known(self) -> bool:
        return bool(self.rate)

    def estimate(self, task: Queued, loaded: Optional[Model]) -> float:
        """Expected seconds for `task` when `loaded` is the model in memory before it
        (its checkpoint as `checkpoint_key` gives it, as the scheduler passes it)."""
        seconds = task.work * self._rate(task.model)
        if loaded is None or loaded[0] != task.model:
            seconds += self._switch(task.model)
        return seconds

    def learn(self, checkpoint: str, work: float, seconds: float, switched: bool) -> None:
        """One task's generation time (model load included when `switched`)."""
        checkpoint = checkpoint_key(checkpoint)
        # new dicts, not changed ones: request threads estimate while the worker learns
        if not switched:
            self.rate = {**self.rate, checkpoint: _smooth(self.rate.get(checkpoint), seconds / work)}
        elif checkpoint in self.rate or self.rate:
            load = max(0.0, seconds - work * self._rate(checkpoint))
            self.switch = {**self.switch, checkpoint: _smooth(self.switch.get(checkpoint), load)}

    def _rate(self, checkpoint: str) -> float:
        """`checkpoint`: as `checkpoint_key` gives it."""
        if checkpoint in self.rate:
            return self.rate[checkpoint]
        return sum(self.rate.values()) / len(self.rate) if self.rate else 0.0

    def _switch(self, checkpoint: str) -> float:
        if checkpoint in self.switch:
            return self.switch[checkpoint]
        return sum(self.switch.values()) / len(self.switch) if self.switch else 0.0


def _smooth(old: Optional[float], new: float) -> float:
    return new if old is None else old + SMOOTHING * (new - old)
