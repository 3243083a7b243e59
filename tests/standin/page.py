"""webui's own page, the parts people share, built with gradio as webui builds it (gradio
3.41 with webui's pins, gradio 4 as Forge has it), for `server.py --page`:

- the quick settings row (`opts.quicksettings_list`), wired as webui's ui_settings.py:
  a change calls run_settings_single (the box's setting, for everyone, saved to
  config.json), a hidden "Change checkpoint" button does the same for the checkpoint,
  and each page load asks for the settings' values (get_settings_values);
- a txt2img tab: prompt, steps, size, seed, Generate (webui's txt2img(id_task, request,
  *args) under queue_lock, with `p.user` the login and the tab's always-on scripts),
  Interrupt, Skip, the gallery and the generation info as webui shows them;
- the Settings tab: a control per setting, and "Apply settings" (run_settings).

Controls carry webui's elem_ids, so that extensions find them as they do on webui."""

import functools
import html

import gradio as gr

from modules import call_queue, processing, progress, scripts, sd_models, sd_vae, shared

LABELS = {"sd_model_checkpoint": "Stable Diffusion checkpoint", "sd_vae": "SD VAE", "CLIP_stop_at_last_layers": "Clip skip"}


def _choices(key):
    if key == "sd_model_checkpoint":
        return [info.title for info in sd_models.checkpoints_list.values()]
    if key == "sd_vae":
        return ["Automatic", "None", *sd_vae.vae_dict]
    return None


def get_value_for_setting(key):
    value = getattr(shared.opts, key)
    choices = _choices(key)
    return gr.update(value=value, choices=choices) if choices is not None else gr.update(value=value)


def create_setting_component(key):
    """As webui's: a dropdown for a choice, a slider for a range, else by the default's type."""
    info = shared.opts.data_labels[key]
    value = shared.opts.data.get(key, info.default)
    label, elem_id = info.label or LABELS.get(key, key), f"setting_{key}"
    if _choices(key) is not None:
        return gr.Dropdown(label=label, choices=_choices(key), value=value, elem_id=elem_id)
    if key == "CLIP_stop_at_last_layers":
        return gr.Slider(label=label, minimum=1, maximum=12, step=1, value=value, elem_id=elem_id)
    if isinstance(info.default, bool):
        return gr.Checkbox(label=label, value=value, elem_id=elem_id)
    if isinstance(info.default, (int, float)):
        return gr.Number(label=label, value=value, elem_id=elem_id, precision=0 if type(info.default) is int else None)
    return gr.Textbox(label=label, value=value, elem_id=elem_id)


class UiSettings:
    """webui's ui_settings.UiSettings: the Settings tab, the quick settings, and how both apply."""

    def __init__(self):
        self.components, self.component_dict, self.dummy_component = [], {}, None
        self.quicksettings_list = [k for k in shared.opts.quicksettings_list if k in shared.opts.data_labels]

    def run_settings(self, *args):
        changed = []
        for key, value, comp in zip(self.keys, args, self.components):
            if comp is self.dummy_component or value is None:
                continue
            if shared.opts.set(key, value):
                changed.append(key)
        shared.opts.save(shared.config_filename)
        return shared.opts.dumpjson(), f'{len(changed)} settings changed{": " if changed else ""}{", ".join(changed)}.'

    def run_settings_single(self, value, key):
        if not shared.opts.same_type(value, shared.opts.data_labels[key].default):
            return gr.update(visible=True), shared.opts.dumpjson()
        if value is None or not shared.opts.set(key, value):
            return gr.update(value=getattr(shared.opts, key)), shared.opts.dumpjson()
        shared.opts.save(shared.config_filename)
        return get_value_for_setting(key), shared.opts.dumpjson()

    def create_ui(self, dummy_component):
        self.dummy_component = dummy_component
        self.keys = [k for k, info in shared.opts.data_labels.items()
                     if isinstance(info.default, (str, int, float, bool)) or info.default is None]
        with gr.Column():
            self.submit = gr.Button(value="Apply settings", variant="primary", elem_id="settings_submit")
            self.result = gr.HTML(elem_id="settings_result")
            for key in self.keys:
                if key in self.quicksettings_list or key.startswith("outdir_"):
                    self.components.append(dummy_component)
                    continue
                component = create_setting_component(key)
                self.component_dict[key] = component
                self.components.append(component)
            self.text_settings = gr.Textbox(elem_id="settings_json", value=lambda: shared.opts.dumpjson(), visible=False)

    def add_quicksettings(self):
        with gr.Row(elem_id="quicksettings"):
            for key in self.quicksettings_list:
                self.component_dict[key] = create_setting_component(key)

    def add_functionality(self, demo):
        self.submit.click(fn=lambda *args: self.run_settings(*args), inputs=self.components,
                          outputs=[self.text_settings, self.result])
        for key in self.quicksettings_list:
            component = self.component_dict[key]
            methods = [component.release] if hasattr(component, "release") else [component.change]
            if isinstance(component, gr.Textbox):
                methods = [component.submit, component.blur]
            for method in methods:
                method(fn=lambda value, k=key: self.run_settings_single(value, key=k), inputs=[component],
                       outputs=[component, self.text_settings])
        if "sd_model_checkpoint" in self.component_dict:
            button = gr.Button("Change checkpoint", elem_id="change_checkpoint", visible=False)
            button.click(fn=lambda value, _: self.run_settings_single(value, key="sd_model_checkpoint"),
                         inputs=[self.component_dict["sd_model_checkpoint"], self.dummy_component],
                         outputs=[self.component_dict["sd_model_checkpoint"], self.text_settings])
        keys = [k for k in shared.opts.data_labels if k in self.component_dict]

        def get_settings_values():
            return [get_value_for_setting(key) for key in keys]

        demo.load(fn=get_settings_values, inputs=[], outputs=[self.component_dict[k] for k in keys], queue=False)


def wrap_gradio_gpu_call(func):
    """As webui's: the job runs under queue_lock with shared.state begun and ended."""

    @functools.wraps(func)
    def f(id_task, *args, **kwargs):
        id_task = id_task or progress.create_task_id("txt2img")  # webui's page script makes one
        progress.add_task_to_queue(id_task)
        with call_queue.queue_lock:
            shared.state.begin(job=id_task)
            progress.start_task(id_task)
            try:
                return func(id_task, *args, **kwargs)
            finally:
                progress.finish_task(id_task)
                shared.state.end()

    return f


def txt2img(id_task: str, request: gr.Request, prompt: str, steps, width, height, seed):
    """webui's modules/txt2img.txt2img: the tab's values into a processing object, its
    always-on scripts with their defaults, the login as `p.user`."""
    runner = scripts.scripts_txt2img
    p = processing.StableDiffusionProcessingTxt2Img(
        sd_model=shared.sd_model, prompt=prompt, steps=int(steps), width=int(width), height=int(height),
        seed=int(seed), sampler_name="Euler", cfg_scale=7.0, override_settings={})
    p.scripts = runner
    p.script_args = [0] + [getattr(c, "value", None) for c in runner.inputs[1:]]
    p.user = request.username
    p.outpath_samples, p.outpath_grids = shared.opts.outdir_txt2img_samples, shared.opts.outdir_txt2img_grids
    try:
        processed = processing.process_images(p)
    finally:
        p.close()
    shared.total_tqdm = None
    return processed.images, processed.js(), f"<p>{html.escape(processed.info).replace(chr(10), '<br>')}</p>"


def create_ui():
    """The page, as webui's ui.create_ui builds it (the parts above)."""
    with gr.Blocks(analytics_enabled=False, title="Stable Diffusion") as demo:
        dummy_component = gr.Label(visible=False)
        settings = UiSettings()
        settings.add_quicksettings()  # at the top of the page, as webui has them
        with gr.Tabs(elem_id="tabs"):
            with gr.Tab("txt2img", id="txt2img", elem_id="tab_txt2img"):
                prompt = gr.Textbox(label="Prompt", elem_id="txt2img_prompt", lines=2)
                with gr.Row():
                    steps = gr.Slider(1, 150, value=20, step=1, label="Sampling steps", elem_id="txt2img_steps")
                    width = gr.Slider(64, 2048, value=512, step=8, label="Width", elem_id="txt2img_width")
                    height = gr.Slider(64, 2048, value=512, step=8, label="Height", elem_id="txt2img_height")
                    seed = gr.Number(label="Seed", value=-1, precision=0, elem_id="txt2img_seed")
                with gr.Row():
                    generate = gr.Button("Generate", variant="primary", elem_id="txt2img_generate")
                    interrupt = gr.Button("Interrupt", elem_id="txt2img_interrupt")
                    skip = gr.Button("Skip", elem_id="txt2img_skip")
                id_task = gr.Textbox(visible=False, elem_id="txt2img_id_task")
                gallery = gr.Gallery(label="Output", elem_id="txt2img_gallery")
                generation_info = gr.Textbox(visible=False, elem_id="generation_info_txt2img")
                html_info = gr.HTML(elem_id="html_info_txt2img")
            with gr.Tab("Settings", id="settings", elem_id="tab_settings"):
                settings.create_ui(dummy_component)
        generate.click(fn=wrap_gradio_gpu_call(txt2img), inputs=[id_task, prompt, steps, width, height, seed],
                       outputs=[gallery, generation_info, html_info])
        interrupt.click(fn=lambda: shared.state.interrupt(), inputs=[], outputs=[])
        skip.click(fn=lambda: shared.state.skip(), inputs=[], outputs=[])
        settings.add_functionality(demo)
    return demo
