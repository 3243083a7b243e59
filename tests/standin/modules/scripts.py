"""webui's scripts.py, the parts the API and the extension rely on: Script, the two
ScriptRunners (txt2img, img2img) with their argument positions, and the hooks
process_images calls for always-on scripts. Which scripts exist: standin.builtin_scripts."""

import os
from types import SimpleNamespace

current_basedir = os.getcwd()
AlwaysVisible = object()
extension_classes = []  # Script subclasses of the extensions' scripts/*.py, in load order


def basedir():
    """The directory of the extension whose script is being loaded."""
    return current_basedir


class Component:
    """What a gradio component is to the API: a label and a default value."""

    def __init__(self, label, value, choices=None, minimum=None, maximum=None, step=None):
        self.label, self.value, self.choices = label, value, choices
        self.minimum, self.maximum, self.step = minimum, maximum, step


class Script:
    alwayson = False
    is_img2img = False
    args_from = None
    args_to = None
    setup_for_ui_only = False
    infotext_fields = None  # [PasteField]: which infotext label fills which of its controls (set by ui())

    def title(self):
        raise NotImplementedError

    def show(self, is_img2img):
        return True

    def ui(self, is_img2img):
        return []

    def run(self, p, *args):
        pass

    def before_process(self, p, *args):
        pass

    def process(self, p, *args):
        pass

    def postprocess(self, p, processed, *args):
        pass

    @property
    def name(self):
        return self.title().lower()

    @property
    def api_info(self):
        """As webui's ScriptInfo: name, is_alwayson, is_img2img, args (label, value, ...)."""
        args = [SimpleNamespace(label=c.label, value=c.value, minimum=c.minimum, maximum=c.maximum, step=c.step,
                                choices=c.choices) for c in self.ui(self.is_img2img)]
        return SimpleNamespace(name=self.name, is_alwayson=self.alwayson, is_img2img=self.is_img2img, args=args)


class ScriptRunner:
    def __init__(self):
        self.scripts, self.selectable_scripts, self.alwayson_scripts = [], [], []
        self.inputs, self.infotext_fields = [None], []  # filled when webui builds its UI

    def setup_ui(self):
        """As webui's, while it builds its UI: each script's controls made once, in
        `inputs` at their argument positions, and the infotext fields they declare."""
        self.inputs, self.infotext_fields = [None], []
        for script in self.scripts:
            self.inputs += script.ui(script.is_img2img)
            self.infotext_fields += script.infotext_fields or []

    def initialize_scripts(self, is_img2img, classes=()):
        """Instantiate the scripts this tab shows and give each its argument positions:
        position 0 is the index (+1) of the selectable script to run, as in webui."""
        self.scripts, self.selectable_scripts, self.alwayson_scripts = [], [], []
        self.inputs, self.infotext_fields = [None], []
        position = 1
        for cls in classes:
            script = cls()
            script.is_img2img = is_img2img
            visible = script.show(is_img2img)
            if not visible:
                continue
            script.alwayson = visible is AlwaysVisible
            script.args_from = position
            position += len(script.ui(is_img2img))
            script.args_to = position
            self.scripts.append(script)
            (self.alwayson_scripts if script.alwayson else self.selectable_scripts).append(script)

    def run(self, p, *args):
        index = args[0]
        if not index:
            return None
        script = self.selectable_scripts[index - 1]
        return script.run(p, *args[script.args_from:script.args_to])

    def _each(self, hook, p, *extra):
        for script in self.alwayson_scripts:
            getattr(script, hook)(p, *extra, *p.script_args[script.args_from:script.args_to])

    def before_process(self, p):
        self._each("before_process", p)

    def process(self, p):
        self._each("process", p)

    def postprocess(self, p, processed):
        self._each("postprocess", p, processed)


scripts_txt2img = ScriptRunner()
scripts_img2img = ScriptRunner()
