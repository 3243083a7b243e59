"""The one lock that serialises all generation in webui."""

from modules import fifo_lock

queue_lock = fifo_lock.FIFOLock()


def wrap_queued_call(func):
    def f(*args, **kwargs):
        with queue_lock:  # looked up at call time, like webui's module global
            return func(*args, **kwargs)

    return f
