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


def get_gradio_auth_creds():
    """As webui: --gradio-auth "name:password,..." and the lines of --gradio-auth-path, as
    (name, password) pairs."""
    from modules.shared_cmd_options import cmd_opts

    def process_credential_line(s):
        s = s.strip()
        return tuple(s.split(":", 1)) if s else None

    if cmd_opts.gradio_auth:
        for cred in cmd_opts.gradio_auth.split(","):
            cred = process_credential_line(cred)
            if cred:
                yield cred
    if cmd_opts.gradio_auth_path:
        with open(cmd_opts.gradio_auth_path, "r", encoding="utf8") as file:
            for line in file.readlines():
                for cred in line.strip().split(","):
                    cred = process_credential_line(cred)
                    if cred:
                        yield cred
