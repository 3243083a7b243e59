"""Checkpoints as the queue compares them: a model is a (checkpoint title, VAE) pair, and
one checkpoint has one name whether or not webui has appended its hash yet."""

from __future__ import annotations

import functools
import re
from typing import Optional, Tuple

Model = Tuple[str, Optional[str]]  # (checkpoint title, VAE or None for webui's setting)

_SHORT_HASH = re.compile(r" \[[0-9a-f]{10}\]\Z")


@functools.lru_cache(maxsize=1024)
def checkpoint_key(title: str) -> str:
    """A checkpoint's title less the short hash webui appends once it knows the file's
    hash (at its first load): tasks queued before and after name one model alike."""
    return _SHORT_HASH.sub("", title)


def same_checkpoint(a: Optional[str], b: Optional[str]) -> bool:
    return a == b or (a is not None and b is not None and checkpoint_key(a) == checkpoint_key(b))


def model_key(model: Optional[Model]) -> Optional[Model]:
    return (checkpoint_key(model[0]), model[1]) if model else None
