"""The script-argument helpers of webui v1.10.1's Api class (modules/api/api.py), with
its semantics: every script's defaults from its UI, the selectable script's arguments
at its positions (and its index + 1 at position 0), each always-on script's arguments
at its own, and 422 for an unknown script or a selectable one among the always-on."""

from fastapi import HTTPException


def script_name_to_index(name, scripts):
    try:
        return [script.title().lower() for script in scripts].index(name.lower())
    except Exception as e:
        raise HTTPException(status_code=422, detail=f"Script '{name}' not found") from e


class Api:
    def get_selectable_script(self, script_name, script_runner):
        if not script_name:
            return None, None
        index = script_name_to_index(script_name, script_runner.selectable_scripts)
        return script_runner.selectable_scripts[index], index

    def get_script(self, script_name, script_runner):
        if not script_name:
            return None, None
        return script_runner.scripts[script_name_to_index(script_name, script_runner.scripts)]

    def init_default_script_args(self, script_runner):
        last = max([1] + [script.args_to for script in script_runner.scripts])
        script_args = [None] * last
        script_args[0] = 0
        for script in script_runner.scripts:
            components = script.ui(script.is_img2img)
            if components:
                script_args[script.args_from:script.args_to] = [c.value for c in components]
        return script_args

    def init_script_args(self, request, default_script_args, selectable_scripts, selectable_idx, script_runner, *,
                         input_script_args=None):
        script_args = default_script_args.copy()
        for index, value in (input_script_args or {}).items():
            script_args[index] = value
        if selectable_scripts:
            script_args[selectable_scripts.args_from:selectable_scripts.args_to] = request.script_args
            script_args[0] = selectable_idx + 1
        for name, given in (request.alwayson_scripts or {}).items():
            script = self.get_script(name, script_runner)
            if script is None:
                raise HTTPException(status_code=422, detail=f"always on script {name} not found")
            if script.alwayson is False:
                raise HTTPException(status_code=422, detail="Cannot have a selectable script in the always on scripts params")
            if "args" in given:
                for i in range(min(script.args_to - script.args_from, len(given["args"]))):
                    script_args[script.args_from + i] = given["args"][i]
        return script_args
