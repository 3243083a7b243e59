"""webui's task bookkeeping: module globals, no locking. A task id added and never started
stays in pending_tasks; a failed native API job leaves current_task set."""

import base64
import io
import random
import string
import time
from collections import OrderedDict

from modules import shared

current_task = None
pending_tasks = OrderedDict()
finished_tasks = []
recorded_results = []
recorded_results_limit = 2


def start_task(id_task):
    global current_task
    current_task = id_task
    pending_tasks.pop(id_task, None)


def finish_task(id_task):
    global current_task
    if current_task == id_task:
        current_task = None
    finished_tasks.append(id_task)
    if len(finished_tasks) > 16:
        finished_tasks.pop(0)


def create_task_id(task_type):
    suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=7))
    return f"task({task_type}-{suffix})"


def record_results(id_task, res):
    recorded_results.append((id_task, res))
    if len(recorded_results) > recorded_results_limit:
        recorded_results.pop(0)


def add_task_to_queue(id_job):
    pending_tasks[id_job] = time.time()


def get_pending_tasks():
    """GET /internal/pending-tasks (only with the gradio UI up)."""
    return {"size": len(pending_tasks), "tasks": list(pending_tasks)}


def progressapi(id_task=None, id_live_preview=-1, live_preview=True):
    """POST /internal/progress (only with the gradio UI up)."""
    active = id_task == current_task
    queued = id_task in pending_tasks
    completed = id_task in finished_tasks
    response = {"active": active, "queued": queued, "completed": completed, "progress": None, "eta": None,
                "live_preview": None, "id_live_preview": -1, "textinfo": None}

    if not active:
        response["textinfo"] = "Waiting..."
        if queued:
            in_order = sorted(pending_tasks, key=lambda x: pending_tasks[x])
            response["textinfo"] = f"In queue: {in_order.index(id_task) + 1}/{len(in_order)}"
        return response

    state = shared.state
    progress = 0
    if state.job_count > 0:
        progress += state.job_no / state.job_count
    if state.sampling_steps > 0 and state.job_count > 0:
        progress += 1 / state.job_count * state.sampling_step / state.sampling_steps
    progress = min(progress, 1)

    elapsed = time.time() - state.time_start
    response["progress"] = progress
    response["eta"] = elapsed / progress - elapsed if progress > 0 else None
    response["id_live_preview"] = id_live_preview
    response["textinfo"] = state.textinfo

    if shared.opts.live_previews_enable and live_preview:
        state.set_current_image()
        if state.id_live_preview != id_live_preview and state.current_image is not None:
            buffered = io.BytesIO()
            state.current_image.save(buffered, format=shared.opts.live_previews_image_format)
            encoded = base64.b64encode(buffered.getvalue()).decode("ascii")
            response["live_preview"] = f"data:image/{shared.opts.live_previews_image_format};base64,{encoded}"
            response["id_live_preview"] = state.id_live_preview

    return response
