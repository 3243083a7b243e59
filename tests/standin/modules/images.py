"""Image helpers from webui's images.py: grids, resizing, and saving PNGs with infotext."""

import datetime
import math
import os
import re

import numpy as np
import torch
from PIL import Image, ImageColor, PngImagePlugin

from modules import shared


def tensor_to_image(x):
    """(3, H, W) tensor in [-1, 1] -> RGB PIL image."""
    x = torch.clamp((x.float() + 1.0) / 2.0, min=0.0, max=1.0)
    return Image.fromarray((255.0 * np.moveaxis(x.cpu().numpy(), 0, 2)).astype(np.uint8))


def image_grid(imgs, batch_size=1, rows=None):
    opts = shared.opts
    if rows is None:
        if opts.n_rows > 0:
            rows = opts.n_rows
        elif opts.n_rows == 0:
            rows = batch_size
        elif opts.grid_prevent_empty_spots:
            rows = math.floor(math.sqrt(len(imgs)))
            while len(imgs) % rows != 0:
                rows -= 1
        else:
            rows = round(math.sqrt(len(imgs)))
    rows = min(rows, len(imgs))
    cols = math.ceil(len(imgs) / rows)

    w, h = map(max, zip(*(img.size for img in imgs)))
    grid = Image.new("RGB", size=(cols * w, rows * h), color=ImageColor.getcolor(opts.grid_background_color, "RGB"))
    for i, img in enumerate(imgs):
        grid.paste(img, box=(i % cols * w, i // cols * h))
    return grid


def resize_image(image, width, height):
    """webui's resize mode 0 ("Just resize"); the stand-in uses it for every mode."""
    return image.resize((width, height), resample=Image.LANCZOS)


def save_image(image, path, basename, seed=None, extension="png", info=None, grid=False, suffix=""):
    """Saves as NNNNN-seed.png under path/<date>/ (webui's default names), with the infotext
    in the PNG "parameters" chunk. Returns the file name."""
    opts = shared.opts
    if opts.grid_save_to_dirs if grid else opts.save_to_dirs:
        path = os.path.join(path, datetime.date.today().isoformat())
    os.makedirs(path, exist_ok=True)

    numbered = [int(m.group(1)) for m in (re.match(r"(\d{5})", f) for f in os.listdir(path)) if m]
    basecount = max(numbered, default=-1) + 1
    name = "-".join(str(x) for x in (basename, seed) if x not in (None, ""))
    fullfn = os.path.join(path, f"{basecount:05}-{name}{suffix}.{extension}")

    pnginfo = None
    if opts.enable_pnginfo and info is not None:
        pnginfo = PngImagePlugin.PngInfo()
        pnginfo.add_text("parameters", info)
    image.save(fullfn, pnginfo=pnginfo)
    return fullfn
