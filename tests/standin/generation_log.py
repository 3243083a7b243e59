"""The stand-in's own record of what it generated (`--generation-log FILE`): one JSON
line when a generation starts and one when it ends, appended with one write each, so
that a line written before the process is killed is there after it. Tests read it to
tell how many times a job really ran, whatever the queue's store says."""

import json
import os
import time

from modules import processing


def install(path):
    inner = processing.process_images_inner

    def write(event, p, **more):
        line = {"event": event, "pid": os.getpid(), "at": time.time(), "prompt": p.prompt, "seed": p.seed, **more}
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(line) + "\n").encode())
        finally:
            os.close(fd)

    def logged(p):
        write("start", p)
        res = inner(p)
        write("end", p, model_hash=p.sd_model_hash, images=len(res.images), interrupted=bool(processing.shared.state.interrupted))
        return res

    processing.process_images_inner = logged

