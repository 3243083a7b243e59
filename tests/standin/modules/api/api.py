"""The script-argument helpers of webui v1.10.1's Api class (modules/api/api.py), with
its semantics: every script's defaults from its UI, the selectable script's arguments
at its positions (and its index + 1 at position 0), each always-on script's arguments
at its own, and 422 for an unknown script or a selectable one among the always-on; and
apply_infotext, which fills a request's unset fields from a pasted infotext; and api_middleware, the
per-request middleware and error handlers webui's Api puts on the app."""

import datetime
import time
import typing

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from modules import errors, infotext_utils, shared


def api_middleware(app: FastAPI):
    """As webui's: two `@app.middleware("http")` functions (starlette's
    BaseHTTPMiddleware, on every request of the app) and its error answers."""

    @app.middleware("http")
    async def log_and_time(req: Request, call_next):
        ts = time.time()
        res = await call_next(req)
        duration = str(round(time.time() - ts, 4))
        res.headers["X-Process-Time"] = duration
        endpoint = req.scope.get("path", "err")
        if shared.cmd_opts.api_log and endpoint.startswith("/sdapi"):
            print(f"API {datetime.datetime.now()} {res.status_code} {req.scope.get('method', 'err')} {endpoint} {duration}")
        return res

    def handle_exception(request: Request, e: Exception):
        err = {
            "error": type(e).__name__,
            "detail": vars(e).get("detail", ""),
            "body": vars(e).get("body", ""),
            "errors": str(e),
        }
        if not isinstance(e, HTTPException):  # webui prints the traceback of unexpected errors only
            errors.report(f"API error: {request.method}: {request.url} {err}", exc_info=True)
        return JSONResponse(status_code=vars(e).get("status_code", 500), content=jsonable_encoder(err))

    @app.middleware("http")
    async def exception_handling(request: Request, call_next):
        try:
            return await call_next(request)
        except Exception as e:
            return handle_exception(request, e)

    @app.exception_handler(Exception)
    async def fastapi_exception_handler(request: Request, e: Exception):
        return handle_exception(request, e)

    @app.exception_handler(HTTPException)
    async def http_exception_handler(request: Request, e: HTTPException):
        return handle_exception(request, e)


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

    def apply_infotext(self, request, tabname, *, script_runner=None, mentioned_script_args=None):
        """webui's: each pasted field with an API name that the request leaves unset takes
        the infotext's value (converted to the field's type); the settings the infotext
        names go into override_settings unless the request sets them; the values for
        script controls go into `mentioned_script_args` by their index in the inputs.
        A KeyError under --nowebui, where no tab registered its fields."""
        if not request.infotext:
            return {}
        possible_fields = infotext_utils.paste_fields[tabname]["fields"]
        set_fields = request.model_dump(exclude_unset=True) if hasattr(request, "model_dump") else request.dict(exclude_unset=True)
        params = infotext_utils.parse_generation_parameters(request.infotext)

        def get_field_value(field, params):
            value = field.function(params) if field.function else params.get(field.label)
            if value is None:
                return None
            target_type = _field_type(request, field.api) if field.api in _fields(request) else type(field.component.value)
            if target_type == type(None):
                return None
            if value is not None and not isinstance(value, target_type):
                value = target_type(value)
            return value

        for field in possible_fields:
            if not field.api or field.api in set_fields:
                continue
            value = get_field_value(field, params)
            if value is not None:
                setattr(request, field.api, value)

        if request.override_settings is None:
            request.override_settings = {}
        for _, setting_name, value in infotext_utils.get_override_settings(params):
            if setting_name not in request.override_settings:
                request.override_settings[setting_name] = value

        if script_runner is not None and mentioned_script_args is not None:
            indexes = {id(v): i for i, v in enumerate(script_runner.inputs)}
            for field in possible_fields:
                index = indexes.get(id(field.component))
                if index is None:
                    continue
                value = get_field_value(field, params)
                if value is not None:
                    mentioned_script_args[index] = value
        return params


def _fields(request):
    return type(request).model_fields if hasattr(type(request), "model_fields") else request.__fields__


def _field_type(request, name):
    """pydantic 1's ModelField.type_: the annotation without Optional, and a list's item type."""
    if not hasattr(type(request), "model_fields"):
        return request.__fields__[name].type_
    annotation = type(request).model_fields[name].annotation
    while typing.get_args(annotation):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if typing.get_origin(annotation) is dict:
            return dict
        annotation = args[0]
    return annotation
