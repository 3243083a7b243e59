"""webui's infotext_utils, the parts its API uses: reading an infotext into labelled
values (parse_generation_parameters), the settings it names (get_override_settings),
and the fields each tab registers for pasting one (paste_fields), which webui fills
only while it builds its UI: under --nowebui the dict stays empty."""

import json
import re

from modules import shared

re_param_code = r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)'
re_param = re.compile(re_param_code)
re_imagesize = re.compile(r"^(\d+)x(\d+)$")

paste_fields: dict = {}
infotext_to_setting_name_mapping = []  # webui 1.10.1's is empty: settings name their own label (OptionInfo.infotext)


class PasteField(tuple):
    """A UI component, the infotext label (or a function of the parsed dict) that fills
    it, and the API request field it stands for (None: the UI's only)."""

    def __new__(cls, component, target, *, api=None):
        return super().__new__(cls, (component, target))

    def __init__(self, component, target, *, api=None):
        super().__init__()
        self.component = component
        self.label = target if isinstance(target, str) else None
        self.function = target if callable(target) else None
        self.api = api


def add_paste_fields(tabname, init_img, fields, override_settings_component=None):
    if fields:
        fields = [f if isinstance(f, PasteField) else PasteField(*f) for f in fields]
    paste_fields[tabname] = {"init_img": init_img, "fields": fields, "override_settings_component": override_settings_component}


def unquote(text):
    if len(text) == 0 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        return json.loads(text)
    except Exception:
        return text


def parse_generation_parameters(x, skip_fields=None):
    """Prompt lines, "Negative prompt:" lines, then "Key: value, ..." on the last line
    (a "WxH" value gives Key-1 and Key-2); webui's defaults for what an infotext of an
    older version leaves out."""
    if skip_fields is None:
        skip_fields = shared.opts.infotext_skip_pasting
    res = {}
    prompt, negative_prompt, done_with_prompt = "", "", False
    *lines, lastline = x.strip().split("\n")
    if len(re_param.findall(lastline)) < 3:
        lines.append(lastline)
        lastline = ""
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            done_with_prompt = True
            line = line[16:].strip()
        if done_with_prompt:
            negative_prompt += ("" if negative_prompt == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line
    for k, v in re_param.findall(lastline):
        if v and v[0] == '"' and v[-1] == '"':
            v = unquote(v)
        m = re_imagesize.match(v)
        if m is not None:
            res[f"{k}-1"], res[f"{k}-2"] = m.group(1), m.group(2)
        else:
            res[k] = v
    res["Prompt"], res["Negative prompt"] = prompt, negative_prompt
    res.setdefault("Clip skip", "1")
    if "Hires resize-1" not in res:
        res["Hires resize-1"] = res["Hires resize-2"] = 0
    res.setdefault("Hires sampler", "Use same sampler")
    res.setdefault("Hires checkpoint", "Use same checkpoint")
    res.setdefault("Hires prompt", "")
    res.setdefault("Hires negative prompt", "")
    for key in skip_fields:
        res.pop(key, None)
    return res


def get_override_settings(params, *, skip_fields=None):
    """[(label, setting, value)] for each setting the infotext names with a value other
    than the present one; the checkpoint only when "Do not change selected model when
    reading generation parameters" (disable_weights_auto_swap) is off."""
    res = []
    mapping = [(info.infotext, k) for k, info in shared.opts.data_labels.items() if info.infotext]
    for param_name, setting_name in mapping + infotext_to_setting_name_mapping:
        if param_name in (skip_fields or {}):
            continue
        v = params.get(param_name, None)
        if v is None:
            continue
        if setting_name == "sd_model_checkpoint" and shared.opts.disable_weights_auto_swap:
            continue
        v = shared.opts.cast_value(setting_name, v)
        if v == getattr(shared.opts, setting_name, None):
            continue
        res.append((param_name, setting_name, v))
    return res
