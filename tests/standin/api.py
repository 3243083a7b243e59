"""webui's native API (modules/api/api.py) as plain functions over the stand-in: the same
request defaults, queue_lock use, state and task bookkeeping, and response shapes.
server.py mounts them; tests may call them in-process."""

import base64
import io
import time

from fastapi import HTTPException
from PIL import Image, PngImagePlugin

from modules import call_queue, processing, progress, sd_hijack, sd_models, sd_samplers, sd_schedulers, sd_vae, shared
from modules.api import models

_NOT_PROCESSING_ARGS = ("script_name", "script_args", "alwayson_scripts", "infotext", "send_images", "save_images", "include_init_images")


def parse_request(payload, model):
    """The request as webui's request model takes it: vars() of the model, every field."""
    return vars(model(**(payload or {})))


def encode_pil_to_base64(image):
    metadata = PngImagePlugin.PngInfo()
    for key, value in image.info.items():
        if isinstance(key, str) and isinstance(value, str):
            metadata.add_text(key, value)
    with io.BytesIO() as output:
        image.save(output, format="PNG", pnginfo=metadata)
        return base64.b64encode(output.getvalue()).decode("ascii")


def decode_base64_to_image(encoding):
    if encoding.startswith("data:image/"):
        encoding = encoding.split(";")[1].split(",")[1]
    try:
        return Image.open(io.BytesIO(base64.b64decode(encoding)))
    except Exception as e:
        raise HTTPException(status_code=500, detail="Invalid encoded image") from e


def _processing_args(req):
    """webui's request -> processing arguments: the sampler resolved, save flags, API-only
    keys dropped. An unknown sampler name silently becomes the default (DPM++ 2M): webui's
    "Sampler not found" check runs after that fallback, so it never fires."""
    sampler, scheduler = sd_samplers.get_sampler_and_scheduler(req["sampler_name"] or req["sampler_index"], req["scheduler"])
    args = dict(req)
    args["sampler_name"] = sampler
    args["sampler_index"] = None
    args["do_not_save_samples"] = not req["save_images"]
    args["do_not_save_grid"] = not req["save_images"]
    if not args["scheduler"] and scheduler != "Automatic":
        args["scheduler"] = scheduler
    for key in _NOT_PROCESSING_ARGS:
        args.pop(key, None)
    return args


def _run(cls, args, kind, task_id):
    """The task is queued, then under queue_lock: p is built (reading shared.sd_model),
    state begins, the task starts, generation runs, the task finishes, state ends. When
    generation raises, finish_task is skipped: progress.current_task stays set."""
    progress.add_task_to_queue(task_id)
    with call_queue.queue_lock:
        p = cls(sd_model=shared.sd_model, **args)
        try:
            p.is_api = True
            p.outpath_grids = getattr(shared.opts, f"outdir_{kind}_grids")
            p.outpath_samples = getattr(shared.opts, f"outdir_{kind}_samples")
            try:
                shared.state.begin(job=f"scripts_{kind}")
                progress.start_task(task_id)
                processed = processing.process_images(p)
                progress.finish_task(task_id)
            finally:
                shared.state.end()
        finally:
            p.close()
    return processed


def text2imgapi(payload):
    req = parse_request(payload, models.StableDiffusionTxt2ImgProcessingAPI)
    task_id = req["force_task_id"] or progress.create_task_id("txt2img")
    args = _processing_args(req)
    processed = _run(processing.StableDiffusionProcessingTxt2Img, args, "txt2img", task_id)
    images = [encode_pil_to_base64(x) for x in processed.images] if req["send_images"] else []
    return {"images": images, "parameters": req, "info": processed.js()}


def img2imgapi(payload):
    req = parse_request(payload, models.StableDiffusionImg2ImgProcessingAPI)
    task_id = req["force_task_id"] or progress.create_task_id("img2img")
    if req["init_images"] is None:
        raise HTTPException(status_code=404, detail="Init image not found")
    args = _processing_args(req)
    args["init_images"] = [decode_base64_to_image(x) for x in req["init_images"]]
    args["mask"] = decode_base64_to_image(req["mask"]) if req["mask"] else None
    processed = _run(processing.StableDiffusionProcessingImg2Img, args, "img2img", task_id)
    images = [encode_pil_to_base64(x) for x in processed.images] if req["send_images"] else []
    if not req["include_init_images"]:
        req["init_images"] = None
        req["mask"] = None
    return {"images": images, "parameters": req, "info": processed.js()}


def progressapi(skip_current_image=False):
    """Never waits for queue_lock. Decodes a preview (on this thread) when due."""
    state = shared.state
    if state.job_count == 0:
        return {"progress": 0, "eta_relative": 0, "state": state.dict(), "current_image": None,
                "textinfo": state.textinfo, "current_task": None}

    progress_value = 0.01  # avoids dividing by zero
    if state.job_count > 0:
        progress_value += state.job_no / state.job_count
    if state.sampling_steps > 0:
        progress_value += 1 / state.job_count * state.sampling_step / state.sampling_steps

    time_since_start = time.time() - state.time_start
    eta_relative = time_since_start / progress_value - time_since_start
    progress_value = min(progress_value, 1)

    state.set_current_image()
    current_image = None
    if state.current_image and not skip_current_image:
        current_image = encode_pil_to_base64(state.current_image)

    # webui imports current_task by value at start-up, so this field is always None there.
    return {"progress": progress_value, "eta_relative": eta_relative, "state": state.dict(),
            "current_image": current_image, "textinfo": state.textinfo, "current_task": None}


def interruptapi():
    shared.state.interrupt()
    return {}


def skipapi():
    shared.state.skip()


def get_config():
    """As webui's answer through its OptionsModel: every setting it knows (its default
    until set), whole numbers as floats (the model's typemap int -> float), then the
    stored keys it has no label for."""
    answer = {}
    for key, info in shared.opts.data_labels.items():
        value = shared.opts.data.get(key, info.default)
        if type(info.default) is int and type(value) is int:
            value = float(value)
        answer[key] = value
    answer.update({key: value for key, value in shared.opts.data.items() if key not in answer})
    return answer


def set_config(req):
    """Changes settings for everyone and writes config.json; a checkpoint change reloads the
    model through the option's onchange, which waits for queue_lock."""
    if shared.cmd_opts.forge:  # Forge's set_config: through its loading parameters
        from standin import forge_mode

        return forge_mode.set_config(req)
    checkpoint_name = req.get("sd_model_checkpoint", None)
    if checkpoint_name is not None and checkpoint_name not in sd_models.checkpoint_aliases:
        raise RuntimeError(f"model {checkpoint_name!r} not found")
    for k, v in req.items():
        shared.opts.set(k, v, is_api=True)
    shared.opts.save(shared.config_filename)


def get_samplers():
    return [{"name": s.name, "aliases": s.aliases, "options": s.options} for s in sd_samplers.all_samplers]


def get_schedulers():
    return [{"name": s.name, "label": s.label, "aliases": s.aliases, "default_rho": s.default_rho,
             "need_inner_model": s.need_inner_model} for s in sd_schedulers.schedulers]


def get_sd_models():
    return [{"title": x.title, "model_name": x.model_name, "hash": x.shorthash, "sha256": x.sha256,
             "filename": x.filename, "config": None} for x in sd_models.checkpoints_list.values()]


def get_sd_vaes():
    return [{"model_name": name, "filename": path} for name, path in sd_vae.vae_dict.items()]


def refresh_checkpoints():
    with call_queue.queue_lock:
        sd_models.list_models()


def refresh_vae():
    with call_queue.queue_lock:
        sd_vae.refresh_vae_list()


def get_prompt_styles():
    return [{"name": s[0], "prompt": s[1], "negative_prompt": s[2]} for s in shared.prompt_styles.styles.values()]


def get_embeddings():
    db = sd_hijack.model_hijack.embedding_db
    if shared.cmd_opts.forge:  # Forge's API: a database of its own, not tied to the model
        from standin import forge_mode

        db = forge_mode.api_embedding_db()

    def convert(embeddings):
        return {e.name: {"step": e.step, "sd_checkpoint": e.sd_checkpoint, "sd_checkpoint_name": e.sd_checkpoint_name,
                         "shape": e.shape, "vectors": e.vectors} for e in embeddings.values()}

    return {"loaded": convert(db.word_embeddings), "skipped": convert(db.skipped_embeddings)}


def get_upscalers():
    return [{"name": u.name, "model_name": None, "model_path": None, "model_url": None, "scale": 4} for u in shared.sd_upscalers]


def get_latent_upscale_modes():
    return [{"name": mode} for mode in shared.latent_upscale_modes]
