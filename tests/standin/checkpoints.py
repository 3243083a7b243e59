"""Small real checkpoints for tests: safetensors files (~2 MB) with SD1.5 key names.
`python -m standin.checkpoints DIR NAME...` writes NAME.safetensors files with seeds 1, 2, ..."""

import hashlib
import os
import sys

import safetensors.torch

from modules import tiny_sd


def _write(path, tensors):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    safetensors.torch.save_file(tensors, path, metadata={"format": "pt"})
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[0:10]


def make_checkpoint(path, seed):
    """Writes a checkpoint whose weights come from `seed`; returns webui's shorthash of it."""
    return _write(path, tiny_sd.checkpoint_weights(seed))


def make_vae(path, seed):
    """Writes a VAE file (decoder and encoder only); returns its shorthash."""
    return _write(path, tiny_sd.vae_weights(seed))


if __name__ == "__main__":
    directory, names = sys.argv[1], sys.argv[2:]
    for seed, name in enumerate(names, start=1):
        print(name, make_checkpoint(os.path.join(directory, f"{name}.safetensors"), seed))
