"""Extension callbacks as webui's script_callbacks.py runs them: in registration order, each
failure printed with its traceback and never raised to the caller."""

import inspect
import os
from dataclasses import dataclass
from typing import Any

from modules import errors


@dataclass
class ScriptCallback:
    script: str
    callback: Any
    name: str = "unnamed"


callback_map = dict(
    callbacks_app_started=[],
    callbacks_model_loaded=[],
    callbacks_ui_tabs=[],
    callbacks_ui_settings=[],
    callbacks_script_unloaded=[],
    callbacks_on_reload=[],
)


def add_callback(callbacks, fun, *, name=None, category="unknown"):
    stack = [x for x in inspect.stack() if x.filename != __file__]
    filename = stack[0].filename if stack else "unknown file"
    callback_name = f"{os.path.basename(filename)}/{category}" + (f"/{name}" if name else "")
    callbacks.append(ScriptCallback(filename, fun, callback_name))


def report_exception(c, job):
    errors.report(f"Error executing callback {job} for {c.script}", exc_info=True)


def _run(category, job, *args):
    for c in list(callback_map[f"callbacks_{category}"]):
        try:
            c.callback(*args)
        except Exception:
            report_exception(c, job)


def clear_callbacks():
    for callback_list in callback_map.values():
        callback_list.clear()


def app_started_callback(demo, app):
    _run("app_started", "app_started_callback", demo, app)


def app_reload_callback():
    _run("on_reload", "app_reload_callback")


before_reload_callback = app_reload_callback  # the name the on_before_reload hook suggests


def model_loaded_callback(sd_model):
    _run("model_loaded", "model_loaded_callback", sd_model)


def ui_settings_callback():
    _run("ui_settings", "ui_settings_callback")


def script_unloaded_callback():
    for c in reversed(list(callback_map["callbacks_script_unloaded"])):
        try:
            c.callback()
        except Exception:
            report_exception(c, "script_unloaded")


def on_app_started(callback, *, name=None):
    """callback(demo, app): demo is None under --nowebui; app is the FastAPI app."""
    add_callback(callback_map["callbacks_app_started"], callback, name=name, category="app_started")


def on_before_reload(callback, *, name=None):
    add_callback(callback_map["callbacks_on_reload"], callback, name=name, category="on_reload")


def on_model_loaded(callback, *, name=None):
    add_callback(callback_map["callbacks_model_loaded"], callback, name=name, category="model_loaded")


def on_ui_tabs(callback, *, name=None):
    """Registered for compatibility; the stand-in builds no gradio UI, so these never run."""
    add_callback(callback_map["callbacks_ui_tabs"], callback, name=name, category="ui_tabs")


def on_ui_settings(callback, *, name=None):
    add_callback(callback_map["callbacks_ui_settings"], callback, name=name, category="ui_settings")


def on_script_unloaded(callback, *, name=None):
    add_callback(callback_map["callbacks_script_unloaded"], callback, name=name, category="script_unloaded")
