"""webui's samplers: the v1.10.1 names, aliases and options, webui's name resolution, and
a sampling loop that reports progress and honours interrupts the way webui's samplers do."""

import functools
import logging
import re
import time
from collections import namedtuple

import torch

from modules import images, sd_schedulers, shared

SamplerData = namedtuple("SamplerData", ["name", "constructor", "aliases", "options"])

_samplers = [
    ("DPM++ 2M", ["k_dpmpp_2m"], {"scheduler": "karras"}),
    ("DPM++ SDE", ["k_dpmpp_sde"], {"scheduler": "karras", "second_order": True, "brownian_noise": True}),
    ("DPM++ 2M SDE", ["k_dpmpp_2m_sde"], {"scheduler": "exponential", "brownian_noise": True}),
    ("DPM++ 2M SDE Heun", ["k_dpmpp_2m_sde_heun"], {"scheduler": "exponential", "brownian_noise": True, "solver_type": "heun"}),
    ("DPM++ 2S a", ["k_dpmpp_2s_a"], {"scheduler": "karras", "uses_ensd": True, "second_order": True}),
    ("DPM++ 3M SDE", ["k_dpmpp_3m_sde"], {"scheduler": "exponential", "discard_next_to_last_sigma": True, "brownian_noise": True}),
    ("Euler a", ["k_euler_a", "k_euler_ancestral"], {"uses_ensd": True}),
    ("Euler", ["k_euler"], {}),
    ("LMS", ["k_lms"], {}),
    ("Heun", ["k_heun"], {"second_order": True}),
    ("DPM2", ["k_dpm_2"], {"scheduler": "karras", "discard_next_to_last_sigma": True, "second_order": True}),
    ("DPM2 a", ["k_dpm_2_a"], {"scheduler": "karras", "discard_next_to_last_sigma": True, "uses_ensd": True, "second_order": True}),
    ("DPM fast", ["k_dpm_fast"], {"uses_ensd": True}),
    ("DPM adaptive", ["k_dpm_ad"], {"uses_ensd": True}),
    ("Restart", ["restart"], {"scheduler": "karras", "second_order": True}),
    ("DDIM", ["ddim"], {}),
    ("DDIM CFG++", ["ddim_cfgpp"], {}),
    ("PLMS", ["plms"], {}),
    ("UniPC", ["unipc"], {}),
    ("LCM", ["k_lcm"], {}),
]


class Sampler:
    """One model call per step. Before each call: stop if state.interrupted or state.skipped
    (the partial latent is returned). After it: state.current_latent is the model's guess,
    then state.sampling_step = i, so it runs 0..steps-1."""

    def __init__(self, model):
        self.model = model
        self.config = None  # set by create_sampler

    def sigmas(self, p, steps):
        scheduler = sd_schedulers.schedulers_map.get(p.scheduler)
        if scheduler is None or scheduler.function is None:
            scheduler = sd_schedulers.schedulers_map[self.config.options.get("scheduler", "uniform")]
        return scheduler.function(steps)

    def sample(self, p, x, conditioning, unconditional_conditioning, steps=None):
        steps = steps or p.steps
        return self.launch_sampling(p, x, self.sigmas(p, steps), conditioning, unconditional_conditioning)

    def sample_img2img(self, p, x, noise, conditioning, unconditional_conditioning, steps=None):
        """Starts from the init latent with noise for denoising_strength: t_enc + 1 steps, as webui."""
        steps = steps or p.steps
        t_enc = int(min(p.denoising_strength, 0.999) * steps)
        sigmas = self.sigmas(p, steps)[steps - t_enc - 1:]
        return self.launch_sampling(p, x + noise * sigmas[0], sigmas, conditioning, unconditional_conditioning)

    def launch_sampling(self, p, x, sigmas, cond, uncond):
        state = shared.state
        steps = len(sigmas) - 1
        state.sampling_steps = steps
        state.sampling_step = 0
        ancestral = self.config.options.get("uses_ensd", False)
        generator = torch.Generator().manual_seed(int(p.seeds[0]))
        # Stand-in rule: the word "nan" in a prompt makes the unet output NaNs from the middle
        # step on, so a task fails for real inside generation (webui's NaN check raises).
        poisoned = any(re.search(r"\bnan\b", prompt, re.IGNORECASE) for prompt in p.prompts)
        # and the word "oom" runs the GPU out of memory at the middle step (torch's own error)
        out_of_memory = any(re.search(r"\boom\b", prompt, re.IGNORECASE) for prompt in p.prompts)

        for i in range(steps):
            if state.interrupted or state.skipped:
                break
            started = time.perf_counter()
            denoised = self.model.denoise(x, cond, uncond, p.cfg_scale)
            if out_of_memory and i == steps // 2:
                raise torch.cuda.OutOfMemoryError(OUT_OF_MEMORY)
            if poisoned and i >= steps // 2:
                denoised = denoised * float("nan")
            time.sleep(max(0.0, shared.cmd_opts.step_seconds - (time.perf_counter() - started)))
            store_latent(denoised)

            x = denoised + (x - denoised) * (sigmas[i + 1] / sigmas[i])
            if ancestral and sigmas[i + 1] > 0:  # ancestral samplers add fresh noise each step
                x = x + torch.randn(x.shape, generator=generator) * sigmas[i + 1] * 0.5
            state.sampling_step = i

        return x


OUT_OF_MEMORY = ("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 7.79 GiB of which "
                 "1.06 GiB is free. Of the allocated memory 5.89 GiB is allocated by PyTorch, and 312.50 MiB is "
                 "reserved by PyTorch but unallocated.")

all_samplers = [SamplerData(name, Sampler, aliases, options) for name, aliases, options in _samplers]
all_samplers_map = {x.name: x for x in all_samplers}

samplers = []
samplers_for_img2img = []
samplers_map = {}
samplers_hidden = set()


def find_sampler_config(name):
    return all_samplers_map.get(name, None) if name is not None else all_samplers[0]


def create_sampler(name, model):
    config = find_sampler_config(name)
    assert config is not None, f"bad sampler name: {name}"
    sampler = config.constructor(model)
    sampler.config = config
    return sampler


def set_samplers():
    global samplers, samplers_for_img2img, samplers_hidden
    samplers_hidden = set(shared.opts.hide_samplers)
    samplers = all_samplers
    samplers_for_img2img = all_samplers
    samplers_map.clear()
    for sampler in all_samplers:
        samplers_map[sampler.name.lower()] = sampler.name
        for alias in sampler.aliases:
            samplers_map[alias.lower()] = sampler.name


def visible_sampler_names():
    return [x.name for x in samplers if x.name not in samplers_hidden]


@functools.cache
def get_sampler_and_scheduler(sampler_name, scheduler_name, *, convert_automatic=True):
    """webui's resolution: an unknown sampler silently becomes the default (DPM++ 2M); a
    trailing scheduler name ("DPM++ 2M Karras") is split off; a scheduler that is the
    sampler's default turns into "Automatic"."""
    default_sampler = samplers[0]
    found_scheduler = sd_schedulers.schedulers_map.get(scheduler_name, sd_schedulers.schedulers[0])

    name = sampler_name or default_sampler.name
    for scheduler in sd_schedulers.schedulers:
        for name_option in [scheduler.label, scheduler.name, *(scheduler.aliases or [])]:
            if name.endswith(" " + name_option):
                found_scheduler = scheduler
                name = name[0:-(len(name_option) + 1)]
                break

    sampler = all_samplers_map.get(name, default_sampler)
    if convert_automatic and sampler.options.get("scheduler", None) == found_scheduler.name:
        found_scheduler = sd_schedulers.schedulers[0]

    return sampler.name, found_scheduler.label


def fix_p_invalid_sampler_and_scheduler(p):
    i_sampler_name, i_scheduler = p.sampler_name, p.scheduler
    p.sampler_name, p.scheduler = get_sampler_and_scheduler(p.sampler_name, p.scheduler, convert_automatic=False)
    if p.sampler_name != i_sampler_name or i_scheduler != p.scheduler:
        logging.warning(f'Sampler Scheduler autocorrection: "{i_sampler_name}" -> "{p.sampler_name}", "{i_scheduler}" -> "{p.scheduler}"')


def store_latent(decoded):
    shared.state.current_latent = decoded
    every = shared.opts.show_progress_every_n_steps
    if shared.opts.live_previews_enable and every > 0 and shared.state.sampling_step % every == 0:
        if not shared.parallel_processing_allowed:
            shared.state.assign_current_image(sample_to_image(decoded))


def sample_to_image(samples, index=0):
    return images.tensor_to_image(shared.sd_model.decode_first_stage(samples[index:index + 1])[0])


def samples_to_image_grid(samples):
    return images.image_grid([sample_to_image(samples, i) for i in range(len(samples))])


set_samplers()
