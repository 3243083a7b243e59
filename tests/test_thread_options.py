"""webui's options while a task runs: the worker's writes are its own; everyone else
sees, and may change, the options as before."""

import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "extension"))

from webui_taskqueue.host.thread_options import ThreadOptions, install  # noqa: E402


def elsewhere(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_the_workers_writes_are_seen_by_the_worker_alone_and_vanish_at_the_end():
    data = ThreadOptions({"sd_model_checkpoint": "A", "CLIP_stop_at_last_layers": 1})
    with data.private():
        data["sd_model_checkpoint"] = "B"
        data.update(CLIP_stop_at_last_layers=2)
        data["new_key"] = True
        assert data["sd_model_checkpoint"] == "B" and data.get("CLIP_stop_at_last_layers") == 2 and "new_key" in data
        assert elsewhere(lambda: (data["sd_model_checkpoint"], data.get("CLIP_stop_at_last_layers"), "new_key" in data)) == ("A", 1, False)
        assert elsewhere(lambda: dict(data)) == {"sd_model_checkpoint": "A", "CLIP_stop_at_last_layers": 1}
    assert dict(data) == {"sd_model_checkpoint": "A", "CLIP_stop_at_last_layers": 1} and "new_key" not in data


def test_a_change_made_by_someone_else_during_the_task_is_kept():
    data = ThreadOptions({"sd_model_checkpoint": "A"})
    with data.private():
        data["sd_model_checkpoint"] = "B"
        elsewhere(lambda: data.__setitem__("sd_model_checkpoint", "C"))  # webui's Settings, mid-task
        assert data["sd_model_checkpoint"] == "B"
    assert data["sd_model_checkpoint"] == "C"


def test_install_wraps_the_options_once_and_again_after_webui_reloads_them():
    class Options:
        def __init__(self):
            self.data = {"a": 1}

    opts = Options()
    first = install(opts)
    assert opts.data is first and install(opts) is first and first["a"] == 1
    opts.data = {"a": 2}  # webui loaded config.json anew
    assert install(opts)["a"] == 2 and isinstance(opts.data, ThreadOptions)
