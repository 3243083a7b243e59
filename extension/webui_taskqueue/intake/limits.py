"""The ranges of a request's numbers: those set in Settings > Task queue, webui's
own, and what any number must fit in to be stored and run.

A number outside its range is refused at submit; inside it, webui runs it. A seed
beyond 64 bits, say, would be queued and fail only when it runs."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ..records.errors import error

SEED_MAX = 2**64 - 1  # the largest seed torch.manual_seed takes
INT64 = (-(2**63), 2**63 - 1)  # any other whole number: what SQLite and webui's numpy can hold
# Ranges that do not depend on Settings: webui's own sliders, a little wider.
RANGES: Dict[str, Tuple[float, float]] = {
    "subseed_strength": (0, 1), "denoising_strength": (0, 1), "refiner_switch_at": (0, 1),
    "cfg_scale": (0, 100), "image_cfg_scale": (0, 100), "hr_scale": (1, 16),
    "resize_mode": (0, 3), "inpainting_fill": (0, 3), "inpainting_mask_invert": (0, 1),
    "mask_blur": (0, 256), "mask_blur_x": (0, 256), "mask_blur_y": (0, 256), "inpaint_full_res_padding": (0, 1024),
}


# Sizes in pixels: webui works on latents of 1/8 the size. The optional ones are not
# used at 0 (or -1); they are the same kind of size when set.
OPTIONAL_SIZES = ("hr_resize_x", "hr_resize_y", "firstphase_width", "firstphase_height",
                  "seed_resize_from_w", "seed_resize_from_h")
SIZES = ("width", "height") + OPTIONAL_SIZES


class Limits:
    """Owner-set bounds (webui Settings > Task queue)."""

    def __init__(self, max_width=2048, max_height=2048, max_steps=150, max_batch_size=8, max_n_iter=16, max_body_mb=50):
        self.max_width, self.max_height = max_width, max_height
        self.max_steps, self.max_batch_size, self.max_n_iter = max_steps, max_batch_size, max_n_iter
        self.max_body_mb = max_body_mb

    def ranges(self, images: int = 1) -> Dict[str, Tuple[int, int, Optional[str]]]:
        """name -> (lowest, highest, the Setting that sets a bound, if one does).
        `images`: batch_size x n_iter; webui seeds them seed, seed+1, ..."""
        seeds = (-1, SEED_MAX - images + 1, None)
        return {
            "width": (64, self.max_width, "max_width"), "height": (64, self.max_height, "max_height"),
            "steps": (1, self.max_steps, "max_steps"), "hr_second_pass_steps": (0, self.max_steps, "max_steps"),
            "batch_size": (1, self.max_batch_size, "max_batch_size"), "n_iter": (1, self.max_n_iter, "max_n_iter"),
            "hr_resize_x": (0, self.max_width, "max_width"), "hr_resize_y": (0, self.max_height, "max_height"),
            "firstphase_width": (0, self.max_width, "max_width"), "firstphase_height": (0, self.max_height, "max_height"),
            "seed_resize_from_w": (-1, self.max_width, "max_width"), "seed_resize_from_h": (-1, self.max_height, "max_height"),
            "seed": seeds, "subseed": seeds,
        }

    def problems(self, params: Dict[str, Any]) -> List[Dict[str, Any]]:
        """Errors (FastAPI's shape) for every number of a request outside its range."""
        errors = []
        images = _whole(params.get("batch_size", 1)) * _whole(params.get("n_iter", 1))
        ranges = self.ranges(max(1, images))
        for name, value in params.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            low, high, setting = ranges.get(name) or (RANGES.get(name, INT64) + (None,))
            if name in SIZES and value % 8 and not (name in OPTIONAL_SIZES and value < 0):
                errors.append(error(name, f"must be a multiple of 8, got {short(value)}"))
            elif name in OPTIONAL_SIZES and 0 < value < 64:
                errors.append(error(name, f"must be {'-1 or ' if low < 0 else ''}0 (not used), or from 64 up, got {value}"))
            elif not low <= value <= high:
                why = f" (limit {setting})" if setting else " (-1: random)" if name in ("seed", "subseed") else ""
                errors.append(error(name, f"must be between {low} and {high}{why}, got {short(value)}"))
        if bool(params.get("firstphase_width")) != bool(params.get("firstphase_height")):
            errors.append(error("firstphase_width", "firstphase_width and firstphase_height are set together (webui "
                                                    "takes them as the first pass's width and height), or neither"))
        if not errors and params.get("enable_hr"):
            errors += _hires(params, self)
        return errors


def _hires(params: Dict[str, Any], limits: Limits) -> List[Dict[str, Any]]:
    """The hires pass's size, as webui computes it, within max_width x max_height."""
    width, height = params.get("width", 512), params.get("height", 512)
    x, y = params.get("hr_resize_x") or 0, params.get("hr_resize_y") or 0
    if x or y:
        field, size = "hr_resize_x" if x else "hr_resize_y", (x or width * y // height, y or height * x // width)
    else:
        field, scale = "hr_scale", params.get("hr_scale", 2.0)
        size = (int(width * scale), int(height * scale))
    if min(size) < 64:
        return [error(field, f"the hires pass would make {size[0]}x{size[1]}; both sides must be 64 or more")]
    if size[0] > limits.max_width or size[1] > limits.max_height:
        return [error(field, f"the hires pass would make {size[0]}x{size[1]}, over the limit of "
                             f"{limits.max_width}x{limits.max_height} (max_width, max_height)")]
    return []


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**16 else 1


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:12]}...({len(text)} digits)"


