"""A webui-like server over the stand-in, for tests that need webui running in another process.

    python -m standin.server --port P --ckpt-dir D --data-dir D [--extension-dir E]
                             [--step-seconds S] [--disk-seconds S] [--freeze-settings] [--nowebui]
                             [--start-window S]
    (or: python tests/standin/server.py ...)

Start-up follows webui: flags (an extension's preload.py may add some), its SIGINT handler,
config.json, checkpoint and VAE lists, the extension's scripts/*.py, the default model,
on_ui_settings callbacks (not under --nowebui), the native API routes, on_app_started(None,
app). Stopping follows webui too: with the UI, the server runs in a thread while the main
thread waits for a server command, so SIGTERM meets the system's default and SIGINT ends
the process at once; under --nowebui, uvicorn serves from the main thread and shuts down
gracefully on either signal. Serves on 127.0.0.1 only; logs to stderr."""

import argparse
import logging
import os
import sys
import threading
import time

if __package__ in (None, ""):  # run as a file: make the `standin` package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import uvicorn  # noqa: E402
from secrets import compare_digest  # noqa: E402

from fastapi import Depends, FastAPI, HTTPException  # noqa: E402
from fastapi.security import HTTPBasic, HTTPBasicCredentials  # noqa: E402

from modules.api.api import api_middleware  # noqa: E402
from standin import api, generation_log, slowdisk, startup  # noqa: E402
from modules import (errors, initialize_util, progress, script_callbacks, script_loading, shared,  # noqa: E402
                     shared_cmd_options)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="stand-in webui", parents=[shared_cmd_options.parser])
    parser.add_argument("--extension-dir", default=None, help="an extension folder (with scripts/) to load")
    parser.add_argument("--disk-seconds", type=float, default=0.0, help="a slow disk: each fsync and COMMIT waits this long")
    parser.add_argument("--generation-log", default=None, help="append a JSON line to this file as each generation starts and ends")
    parser.add_argument("--start-window", type=float, default=0.0,
                        help="with the UI: serve first, as gradio's launch does, and add webui's middleware and API "
                             "this many seconds later (webui's own start takes seconds there)")
    parser.add_argument("--page", action="store_true",
                        help="build webui's page with gradio (standin/page.py) and serve through gradio's launch, "
                             "as webui does; needs gradio")
    extension_dir = parser.parse_known_args(argv)[0].extension_dir
    preload = os.path.join(extension_dir or "", "preload.py")
    if extension_dir and os.path.isfile(preload):
        try:
            script_loading.load_module(preload).preload(parser)
        except Exception:
            errors.report(f"Error running preload() for {preload}", exc_info=True)
    args = parser.parse_args(argv)
    if not args.ckpt_dir or not args.data_dir or not args.port:
        parser.error("--port, --ckpt-dir and --data-dir are required")
    return args


def create_app(nowebui):
    app = FastAPI()
    initialize_util.setup_middleware(app)
    return add_api(app, nowebui)


def add_api(app, nowebui):
    """webui's create_api: its middleware, after the GZip middleware, then its routes."""
    api_middleware(app)

    # Plain `def` endpoints run in the threadpool, as webui's do, so a request waiting for
    # queue_lock never blocks /sdapi/v1/progress.
    def txt2img(payload: dict):
        return api.text2imgapi(payload)

    def img2img(payload: dict):
        return api.img2imgapi(payload)

    def progress_route(skip_current_image: bool = False):
        return api.progressapi(skip_current_image)

    def set_config(req: dict):
        return api.set_config(req)

    routes = [
        ("/sdapi/v1/txt2img", txt2img, "POST"),
        ("/sdapi/v1/img2img", img2img, "POST"),
        ("/sdapi/v1/progress", progress_route, "GET"),
        ("/sdapi/v1/interrupt", api.interruptapi, "POST"),
        ("/sdapi/v1/skip", api.skipapi, "POST"),
        ("/sdapi/v1/options", api.get_config, "GET"),
        ("/sdapi/v1/options", set_config, "POST"),
        ("/sdapi/v1/samplers", api.get_samplers, "GET"),
        ("/sdapi/v1/schedulers", api.get_schedulers, "GET"),
        ("/sdapi/v1/sd-models", api.get_sd_models, "GET"),
        ("/sdapi/v1/sd-vae", api.get_sd_vaes, "GET"),
        ("/sdapi/v1/refresh-checkpoints", api.refresh_checkpoints, "POST"),
        ("/sdapi/v1/refresh-vae", api.refresh_vae, "POST"),
        ("/sdapi/v1/prompt-styles", api.get_prompt_styles, "GET"),
        ("/sdapi/v1/embeddings", api.get_embeddings, "GET"),
        ("/sdapi/v1/upscalers", api.get_upscalers, "GET"),
        ("/sdapi/v1/latent-upscale-modes", api.get_latent_upscale_modes, "GET"),
    ]
    if not nowebui:  # these come with the gradio UI: 404 under --nowebui

        def internal_progress(req: dict):
            known = ("id_task", "id_live_preview", "live_preview")  # other keys are ignored, as by pydantic
            return progress.progressapi(**{k: v for k, v in req.items() if k in known})

        routes += [
            ("/internal/progress", internal_progress, "POST"),
            ("/internal/pending-tasks", progress.get_pending_tasks, "GET"),
        ]
    # as webui's Api: with --api-auth, every /sdapi route needs HTTP Basic credentials
    credentials = dict(pair.split(":", 1) for pair in shared.cmd_opts.api_auth.split(",")) if shared.cmd_opts.api_auth else {}

    def auth(given: HTTPBasicCredentials = Depends(HTTPBasic())):
        if given.username in credentials and compare_digest(given.password, credentials[given.username]):
            return True
        raise HTTPException(status_code=401, detail="Incorrect username or password", headers={"WWW-Authenticate": "Basic"})

    if shared.cmd_opts.api_server_stop:
        def stop_webui():
            shared.state.server_command = "stop"
            return "Stopping."

        routes.append(("/sdapi/v1/server-stop", stop_webui, "POST"))
    for path, endpoint, method in routes:
        guarded = credentials and path.startswith("/sdapi/")
        app.add_api_route(path, endpoint, methods=[method], dependencies=[Depends(auth)] if guarded else None)
    return app


def main(argv=None):
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    flags = {k: v for k, v in vars(args).items()
             if k not in ("ckpt_dir", "data_dir", "extension_dir", "disk_seconds", "generation_log", "start_window", "page")}
    initialize_util.configure_sigint_handler()
    if args.disk_seconds:
        slowdisk.install(args.disk_seconds)

    startup.boot(args.ckpt_dir, args.data_dir, load_model=False, **flags)
    if args.generation_log:
        generation_log.install(args.generation_log)
    if args.extension_dir:
        startup.load_extension_scripts(args.extension_dir)
    # As webui's initialize_rest: after the scripts (their on_model_loaded callbacks run),
    # in a thread that takes model_data.lock through shared.sd_model; the app serves
    # requests while the model is still loading.
    threading.Thread(target=lambda: shared.sd_model, name="load model", daemon=True).start()
    if not os.path.exists(shared.config_filename) and not args.freeze_settings:
        shared.opts.save(shared.config_filename)
    if not args.nowebui:
        script_callbacks.ui_settings_callback()

    # logs via the root logger; with the UI, gradio serves at log_level="warning" (no line per
    # request), and webui's api_only at uvicorn's default, which logs each request
    def server(app):
        return uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port, log_config=None,
                                             log_level=None if args.nowebui else "warning"))

    if args.page and not args.nowebui:
        serve_page(args.port)
        return
    if args.start_window and not args.nowebui:
        # as webui.py with its UI: gradio's launch serves, then webui sets the app up
        # (setup_middleware), adds its API (create_api) and runs app_started
        app = FastAPI()
        serving = server(app)
        thread = serve_in_thread(serving)
        while not serving.started and thread.is_alive():
            time.sleep(0.01)
        initialize_util.setup_middleware(app)
        time.sleep(args.start_window)
        add_api(app, nowebui=False)
        script_callbacks.app_started_callback(None, app)
        wait_for_stop(serving, thread)
        return
    app = create_app(args.nowebui)
    script_callbacks.app_started_callback(None, app)  # no gradio here: demo is None even with the UI
    if args.nowebui:
        server(app).run()  # as webui's api_only: in the main thread, which takes the signals
    else:
        serving = server(app)
        wait_for_stop(serving, serve_in_thread(serving))


def serve_page(port):
    """As webui.py with its UI: the page is built, gradio's launch serves it (with the
    logins of --gradio-auth), then webui sets the app up, adds its API and runs the
    app_started callbacks; the main thread waits for a server command."""
    from standin import page

    demo = page.create_ui()
    demo.queue(64)
    auth = list(initialize_util.get_gradio_auth_creds()) or None
    app, _, _ = demo.launch(server_name="127.0.0.1", server_port=port, auth=auth, prevent_thread_lock=True,
                            quiet=True, app_kwargs={"docs_url": "/docs", "redoc_url": "/redoc"})
    app.user_middleware = [x for x in app.user_middleware if x.cls.__name__ != "CORSMiddleware"]
    initialize_util.setup_middleware(app)
    add_api(app, nowebui=False)
    script_callbacks.app_started_callback(demo, app)
    while shared.state.wait_for_server_command(timeout=5) not in ("stop", "restart"):
        pass
    print("Stopping server...")
    demo.close()


def serve_in_thread(server):
    """As gradio's launch: the server runs in a thread (no signal handlers)."""
    thread = threading.Thread(target=server.run, name="server", daemon=True)
    thread.start()
    return thread


def wait_for_stop(server, thread):
    """As webui.py with its UI: the main thread waits for a server command. A "restart"
    (UI reload) is not reproduced: it stops too."""
    while thread.is_alive():
        if shared.state.wait_for_server_command(timeout=5) in ("stop", "restart"):
            break
    print("Stopping server...")
    server.should_exit = True
    thread.join()


if __name__ == "__main__":
    main()
