"""The NaN check webui runs on every latent batch after sampling, and torch_gc."""

import torch

from modules import shared


class NansException(Exception):
    pass


def test_for_nans(x, where):
    if shared.cmd_opts.disable_nan_check:
        return
    if not torch.isnan(x[(0,) * len(x.shape)]):
        return

    if where == "unet":
        message = ("A tensor with NaNs was produced in Unet. This could be either because there's not enough precision "
                   "to represent the picture, or because your video card does not support half type.")
    elif where == "vae":
        message = "A tensor with NaNs was produced in VAE."
    else:
        message = "A tensor with NaNs was produced."
    message += " Use --disable-nan-check commandline argument to disable this check."
    raise NansException(message)


gc_calls = 0  # the stand-in has no GPU cache to empty: tests read how often it was asked to


def torch_gc():
    """webui empties the CUDA cache here (torch.cuda.empty_cache, ipc_collect)."""
    global gc_calls
    gc_calls += 1
