"""webui's start-up helpers: only its SIGINT handler."""

import os
import signal


def configure_sigint_handler():
    """As webui v1.10.1: Ctrl+C ends the process at once, running no exit code at all.
    SIGTERM keeps the system's default: the same, without the message."""

    def sigint_handler(sig, frame):
        print(f'Interrupted with signal {sig} in {frame}')
        os._exit(0)

    if not os.environ.get("COVERAGE_RUN"):
        signal.signal(signal.SIGINT, sigint_handler)
