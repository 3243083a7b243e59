"""Small real checkpoints for tests: safetensors files (~2 MB) with SD1.5 key names.
`python -m standin.checkpoints DIR NAME...` writes NAME.safetensors files with seeds 1, 2, ..."""

import hashlib
import os
import sys

import safetensors.torch
import torch

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


def make_lora(path, seed, alias=None):
    """Writes a small LoRA file (one down/up pair with kohya's key names); `alias`: the
    name its metadata gives (`ss_output_name`), as kohya's trainer writes it."""
    generator = torch.Generator().manual_seed(seed)
    key = "lora_unet_down_blocks_0_attentions_0_proj_in"
    tensors = {f"{key}.lora_down.weight": torch.randn(4, 32, generator=generator),
               f"{key}.lora_up.weight": torch.randn(32, 4, generator=generator), f"{key}.alpha": torch.tensor(4.0)}
    metadata = {"format": "pt", **({"ss_output_name": alias} if alias else {})}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    safetensors.torch.save_file(tensors, path, metadata=metadata)


def make_embedding(path, seed, vectors=2, width=768):
    """Writes a textual inversion embedding (`emb_params`, vectors x width; SD1.5's width
    is 768: another one makes an embedding webui skips)."""
    generator = torch.Generator().manual_seed(seed)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    safetensors.torch.save_file({"emb_params": torch.randn(vectors, width, generator=generator)}, path)


def make_loras_and_embeddings(data_dir):
    """Two LoRAs (one with an alias) and three embeddings (one for another model's width)
    where webui looks by default: <data dir>/models/Lora and <data dir>/embeddings."""
    lora_dir, embeddings_dir = os.path.join(data_dir, "models", "Lora"), os.path.join(data_dir, "embeddings")
    make_lora(os.path.join(lora_dir, "paperCut.safetensors"), seed=1)
    make_lora(os.path.join(lora_dir, "watercolor_v2.safetensors"), seed=2, alias="watercolor")
    make_embedding(os.path.join(embeddings_dir, "easynegative.safetensors"), seed=1)
    make_embedding(os.path.join(embeddings_dir, "goodhands.safetensors"), seed=2, vectors=1)
    make_embedding(os.path.join(embeddings_dir, "xl-only.safetensors"), seed=3, width=1280)


if __name__ == "__main__":
    directory, names = sys.argv[1], sys.argv[2:]
    for seed, name in enumerate(names, start=1):
        print(name, make_checkpoint(os.path.join(directory, f"{name}.safetensors"), seed))
