"""webui's schedulers (names, labels, aliases as in v1.10.1). Each maps to one of three
noise-level curves the stand-in's sampler follows: linear, Karras or exponential."""

import dataclasses
import math

SIGMA_MIN = 0.03


def uniform(n):
    return [1 - i / n for i in range(n)] + [0.0]


def karras(n, rho=7.0):
    lo, hi = SIGMA_MIN ** (1 / rho), 1.0
    return [(hi + i / max(n - 1, 1) * (lo - hi)) ** rho for i in range(n)] + [0.0]


def exponential(n):
    return [math.exp(i / max(n - 1, 1) * math.log(SIGMA_MIN)) for i in range(n)] + [0.0]


@dataclasses.dataclass
class Scheduler:
    name: str
    label: str
    function: any

    default_rho: float = -1
    need_inner_model: bool = False
    aliases: list = None


schedulers = [
    Scheduler("automatic", "Automatic", None),
    Scheduler("uniform", "Uniform", uniform, need_inner_model=True),
    Scheduler("karras", "Karras", karras, default_rho=7.0),
    Scheduler("exponential", "Exponential", exponential),
    Scheduler("polyexponential", "Polyexponential", exponential, default_rho=1.0),
    Scheduler("sgm_uniform", "SGM Uniform", uniform, need_inner_model=True, aliases=["SGMUniform"]),
    Scheduler("kl_optimal", "KL Optimal", karras),
    Scheduler("align_your_steps", "Align Your Steps", karras),
    Scheduler("simple", "Simple", uniform, need_inner_model=True),
    Scheduler("normal", "Normal", uniform, need_inner_model=True),
    Scheduler("ddim", "DDIM", uniform, need_inner_model=True),
    Scheduler("beta", "Beta", karras, need_inner_model=True),
]

schedulers_map = {**{x.name: x for x in schedulers}, **{x.label: x for x in schedulers}}
