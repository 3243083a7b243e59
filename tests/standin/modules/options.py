"""Settings as webui's options.py keeps them: a data dict over registered defaults."""

import json

from modules import errors, shared_cmd_options


class OptionInfo:
    def __init__(self, default=None, label="", component=None, component_args=None, onchange=None, section=None,
                 refresh=None, comment_before="", comment_after="", infotext=None, restrict_api=False, category_id=None):
        self.default = default
        self.label = label
        self.component = component
        self.component_args = component_args
        self.onchange = onchange
        self.section = section
        self.category_id = category_id
        self.refresh = refresh
        self.do_not_save = False
        self.comment_before = comment_before
        self.comment_after = comment_after
        self.infotext = infotext
        self.restrict_api = restrict_api

    def info(self, info):
        self.comment_after += f"<span class='info'>({info})</span>"
        return self

    def needs_restart(self):
        self.comment_after += " <span class='info'>(requires restart)</span>"
        return self


_builtin_fields = {"data_labels", "data"}


class Options:
    def __init__(self, data_labels):
        self.data_labels = data_labels
        self.data = {k: v.default for k, v in data_labels.items() if not v.do_not_save}

    def __setattr__(self, key, value):
        if key in _builtin_fields:
            return super().__setattr__(key, value)
        if key in self.data or key in self.data_labels:
            assert not shared_cmd_options.cmd_opts.freeze_settings, "changing settings is disabled"
            info = self.data_labels.get(key)
            if info is not None and info.do_not_save:
                return
            self.data[key] = value
            return
        # unknown keys become plain attributes, outside data (as in webui)
        return super().__setattr__(key, value)

    def __getattr__(self, item):
        if item in _builtin_fields:
            return super().__getattribute__(item)
        if item in self.data:
            return self.data[item]
        if item in self.data_labels:
            return self.data_labels[item].default
        return super().__getattribute__(item)

    def set(self, key, value, is_api=False, run_callbacks=True):
        """Set an option and call its onchange; True if it changed. An unchanged value
        returns False before anything else, so it passes even with --freeze-settings."""
        oldval = self.data.get(key, None)
        if oldval == value:
            return False

        option = self.data_labels[key]  # KeyError for unknown settings, as in webui
        if option.do_not_save:
            return False
        if is_api and option.restrict_api:
            return False

        try:
            setattr(self, key, value)
        except RuntimeError:
            return False

        if run_callbacks and option.onchange is not None:
            try:
                option.onchange()
            except Exception as e:
                errors.display(e, f"changing setting {key} to {value}")
                setattr(self, key, oldval)
                return False

        return True

    def cast_value(self, key, value):
        """A value read from an infotext (text), as the setting's type: "2" -> 2."""
        if value is None:
            return None
        default_value = self.data_labels[key].default
        if default_value is None:
            default_value = getattr(self, key, None)
        if default_value is None:
            return None
        expected_type = type(default_value)
        if expected_type == bool and value == "False":
            return False
        return expected_type(value)

    def same_type(self, x, y):
        """As webui: a whole number and a float are one type (its typemap int -> float)."""
        if x is None or y is None:
            return True
        typemap = {int: float}
        return typemap.get(type(x), type(x)) == typemap.get(type(y), type(y))

    def dumpjson(self):
        """The settings as webui's page reads them (its settings_json)."""
        d = {k: self.data.get(k, v.default) for k, v in self.data_labels.items()}
        return json.dumps(d)

    def get_default(self, key):
        info = self.data_labels.get(key)
        return None if info is None else info.default

    def save(self, filename):
        assert not shared_cmd_options.cmd_opts.freeze_settings, "saving settings is disabled"
        with open(filename, "w", encoding="utf8") as file:
            json.dump(self.data, file, indent=4, ensure_ascii=False)

    def load(self, filename):
        """Replace data with the file's content: keys absent from the file are absent from
        data (GET /sdapi/v1/options lists only these), their defaults still answer reads."""
        try:
            with open(filename, "r", encoding="utf8") as file:
                self.data = json.load(file)
        except FileNotFoundError:
            self.data = {}
        except Exception:
            errors.report(f"Could not load settings from {filename}; using defaults", exc_info=True)
            self.data = {}

    def onchange(self, key, func, call=True):
        self.data_labels.get(key).onchange = func
        if call:
            func()

    def add_option(self, key, info):
        self.data_labels[key] = info
        if key not in self.data and not info.do_not_save:
            self.data[key] = info.default
