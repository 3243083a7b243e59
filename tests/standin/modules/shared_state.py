"""shared.state: one global, lock-free record of the running job, read from any thread."""

import datetime
import logging
import threading
import time
from typing import Optional

from modules import errors, shared

log = logging.getLogger(__name__)


class State:
    skipped = False
    interrupted = False
    stopping_generation = False
    job = ""
    job_no = 0
    job_count = 0
    processing_has_refined_job_count = False
    job_timestamp = "0"
    sampling_step = 0
    sampling_steps = 0
    current_latent = None
    current_image = None
    current_image_sampling_step = 0
    id_live_preview = 0
    textinfo = None
    time_start = None
    server_start = None

    _server_command_signal = threading.Event()
    _server_command: Optional[str] = None

    def __init__(self):
        self.server_start = time.time()

    @property
    def server_command(self):
        return self._server_command

    @server_command.setter
    def server_command(self, value: Optional[str]) -> None:
        """As webui: what the main thread's loop acts on ("stop", "restart")."""
        self._server_command = value
        self._server_command_signal.set()

    def wait_for_server_command(self, timeout: Optional[float] = None) -> Optional[str]:
        if self._server_command_signal.wait(timeout):
            self._server_command_signal.clear()
            req = self._server_command
            self._server_command = None
            return req
        return None

    def skip(self):
        self.skipped = True
        log.info("Received skip request")

    def interrupt(self):
        """Only raises a flag: every sampling step checks it; begin() clears it."""
        self.interrupted = True
        log.info("Received interrupt request")

    def stop_generating(self):
        self.stopping_generation = True

    def nextjob(self):
        if shared.opts.live_previews_enable and shared.opts.show_progress_every_n_steps == -1:
            self.do_set_current_image()
        self.job_no += 1
        self.sampling_step = 0
        self.current_image_sampling_step = 0

    def dict(self):
        return {
            "skipped": self.skipped,
            "interrupted": self.interrupted,
            "stopping_generation": self.stopping_generation,
            "job": self.job,
            "job_count": self.job_count,
            "job_timestamp": self.job_timestamp,
            "job_no": self.job_no,
            "sampling_step": self.sampling_step,
            "sampling_steps": self.sampling_steps,
        }

    def begin(self, job: str = "(unknown)"):
        """Resets the job fields and the flags; sampling_steps keeps the last job's value."""
        self.sampling_step = 0
        self.time_start = time.time()
        self.job_count = -1
        self.processing_has_refined_job_count = False
        self.job_no = 0
        self.job_timestamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
        self.current_latent = None
        self.current_image = None
        self.current_image_sampling_step = 0
        self.id_live_preview = 0
        self.skipped = False
        self.interrupted = False
        self.stopping_generation = False
        self.textinfo = None
        self.job = job
        log.info("Starting job %s", job)

    def end(self):
        duration = time.time() - self.time_start  # TypeError before the first begin(), as in webui
        log.info("Ending job %s (%.2f seconds)", self.job, duration)
        self.job = ""
        self.job_count = 0

    def set_current_image(self):
        """Decodes a preview when enough steps passed since the last one (on the caller's thread)."""
        if not shared.parallel_processing_allowed:
            return
        every = shared.opts.show_progress_every_n_steps
        if self.sampling_step - self.current_image_sampling_step >= every and shared.opts.live_previews_enable and every != -1:
            self.do_set_current_image()

    def do_set_current_image(self):
        if self.current_latent is None:
            return
        from modules import sd_samplers

        try:
            if shared.opts.show_progress_grid:
                self.assign_current_image(sd_samplers.samples_to_image_grid(self.current_latent))
            else:
                self.assign_current_image(sd_samplers.sample_to_image(self.current_latent))
            self.current_image_sampling_step = self.sampling_step
        except Exception:
            errors.record_exception()  # webui ignores failed previews (e.g. during a model switch)

    def assign_current_image(self, image):
        if shared.opts.live_previews_image_format == "jpeg" and image.mode in ("RGBA", "P"):
            image = image.convert("RGB")
        self.current_image = image
        self.id_live_preview += 1
