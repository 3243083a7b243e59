"""Progress of the running task from webui's state, with an ETA that leaves out model
loading: the rate is measured from the first observation with sampling under way,
not from the job's start (webui's own eta_relative counts the load and is far off)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from ..host.contract import StateSnapshot


@dataclasses.dataclass(frozen=True)
class Progress:
    fraction: float
    step: int
    steps: int
    job_no: int
    job_count: int
    eta_seconds: Optional[float]


class ProgressMeter:
    """One per running task; fed a snapshot and the time on every read."""

    def __init__(self, requested_steps: int, requested_jobs: int) -> None:
        self._requested_steps = max(1, requested_steps)
        self._requested_jobs = max(1, requested_jobs)
        self._first: Optional[tuple] = None  # (time, fraction) when sampling was first seen
        self._fraction = 0.0
        self._last: Optional[Progress] = None  # the last reading with sampling under way

    def read(self, snap: StateSnapshot, now: float) -> Progress:
        started = snap.job_count > 0  # -1 right after begin(), set once the model is loaded
        sampling = started and bool(snap.sampling_steps)
        if self._last is not None and not sampling:
            return self._last  # the job ended (its images are being saved): never backwards
        steps = snap.sampling_steps or self._requested_steps
        jobs = snap.job_count if started else self._requested_jobs
        step = min(snap.sampling_step + 1, steps) if sampling else 0
        job_no = min(max(snap.job_no, 0), jobs - 1)
        if sampling:
            # never backwards (a hires pass restarts the step count)
            self._fraction = max(self._fraction, min(1.0, (job_no + step / steps) / jobs))
        eta = None
        if self._fraction > 0:
            if self._first is None:
                self._first = (now, self._fraction)
            else:
                t0, f0 = self._first
                if self._fraction > f0 and now > t0:
                    eta = (1.0 - self._fraction) * (now - t0) / (self._fraction - f0)
        found = Progress(round(self._fraction, 4), step, steps, job_no, jobs, None if eta is None else round(eta, 2))
        if sampling:
            self._last = found
        return found

    def completed(self) -> Progress:
        """The progress of a job that ran to its end: every step of every batch."""
        last = self._last
        steps = last.steps if last is not None else self._requested_steps
        jobs = last.job_count if last is not None else self._requested_jobs
        return Progress(1.0, steps, steps, jobs - 1, jobs, 0.0)
