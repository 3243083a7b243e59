"""webui's entry point for this extension: registers callbacks, nothing more.
Stopping webui, or reloading its UI, stops the queue (runtime/lifecycle.stop) before it goes.

webui puts the extension folder on sys.path only while it loads scripts; the package
lives in extension/ under a name of its own, so that folder stays on sys.path."""

import os
import sys

_PACKAGE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "extension")
if _PACKAGE_DIR not in sys.path:
    sys.path.insert(0, _PACKAGE_DIR)

from modules import script_callbacks, scripts  # noqa: E402

from webui_taskqueue.host import choose, webui, webui_page  # noqa: E402
from webui_taskqueue.runtime import lifecycle, shutdown  # noqa: E402


class OwnSettings(scripts.Script):
    """A Generate on webui's page runs with its person's own settings (checkpoint, VAE,
    CLIP skip, ...) where the job sets none itself. No controls of its own."""

    def title(self):
        return "Task queue: each person's own settings"

    def show(self, is_img2img):
        return scripts.AlwaysVisible

    def before_process(self, p, *args):
        webui_page.before_process(p)


def _on_app_started(demo, app):
    # the host is decided by the first start; a UI reload keeps it
    lifecycle.start(app, choose.select(), demo)
    shutdown.install(lifecycle.stop)  # SIGINT, SIGTERM and exit: the running task is marked first


webui.watch_apps(lifecycle.prepare)  # webui serves before the queue starts: it says it is starting
script_callbacks.on_ui_settings(lambda: webui.register_settings(lifecycle.SETTINGS))
script_callbacks.on_app_started(_on_app_started)
script_callbacks.on_script_unloaded(lifecycle.stop)
