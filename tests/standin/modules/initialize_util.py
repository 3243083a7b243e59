"""webui's start-up helpers: its SIGINT handler and its middleware."""

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


def setup_middleware(app):
    """As webui v1.10.1, before the extensions' app_started callbacks: answers of 1000
    bytes or more are gzip-compressed for clients that accept it (a streamed answer in
    chunks that starlette's GZipMiddleware holds back until kilobytes gather)."""
    from starlette.middleware.gzip import GZipMiddleware

    app.middleware_stack = None  # reset current middleware to allow modifying user provided list
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.build_middleware_stack()  # rebuild middleware stack on-the-fly
