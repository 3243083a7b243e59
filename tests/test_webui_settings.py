"""The queue's settings in webui's Settings tab keep their defaults' types: a whole
number stays one in config.json and in /sdapi/v1/options, once applied from the page and
when an earlier release left a float there."""

import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # makes `standin` importable

import standin  # noqa: E402,F401
from modules import shared  # noqa: E402

from webui_taskqueue.host import webui  # noqa: E402

KEYS = ("tq_test_whole", "tq_test_fraction", "tq_test_flag", "tq_test_text")


def settings(monkeypatch, saved):
    gradio = types.SimpleNamespace(Number=type("Number", (), {}))
    monkeypatch.setitem(sys.modules, "gradio", gradio)
    for key in KEYS:
        monkeypatch.delitem(shared.opts.data, key, raising=False)
        monkeypatch.delitem(shared.opts.data_labels, key, raising=False)
    for key, value in saved.items():
        monkeypatch.setitem(shared.opts.data, key, value)
    webui.register_settings({"tq_test_whole": (2048, "a whole number"), "tq_test_fraction": (10.0, "seconds"),
                             "tq_test_flag": (True, "a flag"), "tq_test_text": ("", "a text")})
    return gradio


def test_a_whole_number_setting_is_a_number_field_that_gives_whole_numbers(monkeypatch):
    gradio = settings(monkeypatch, {})
    whole = shared.opts.data_labels["tq_test_whole"]
    assert whole.component is gradio.Number and whole.component_args == {"precision": 0}
    fraction = shared.opts.data_labels["tq_test_fraction"]
    assert fraction.component is gradio.Number and fraction.component_args is None
    assert shared.opts.data_labels["tq_test_flag"].component is None  # webui's own checkbox
    assert shared.opts.data_labels["tq_test_text"].component is None
    assert type(shared.opts.data["tq_test_whole"]) is int


def test_a_whole_number_saved_as_a_float_is_read_back_whole(monkeypatch):
    settings(monkeypatch, {"tq_test_whole": 4096.0, "tq_test_fraction": 2.0, "tq_test_flag": False})
    assert shared.opts.data["tq_test_whole"] == 4096 and type(shared.opts.data["tq_test_whole"]) is int
    assert type(shared.opts.data["tq_test_fraction"]) is float
    assert shared.opts.data["tq_test_flag"] is False


def test_a_fractional_value_in_a_whole_number_setting_is_left_as_it_is(monkeypatch):
    settings(monkeypatch, {"tq_test_whole": 2048.5})
    assert shared.opts.data["tq_test_whole"] == 2048.5
