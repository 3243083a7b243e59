"""The stand-in's model: Stable-Diffusion-shaped, tiny, random, and doing real tensor work.

A checkpoint holds a token embedding (the "text encoder"), three convolutions (the "unet")
and a small decoder (the "VAE") under SD1.5's key names; a VAE file holds just the
first-stage keys, without the "first_stage_model." prefix, as real VAE files do.
Different weights give different images; the same weights and seed give the same image."""

import math
import re
import zlib

import torch
import torch.nn.functional as F

CHANNELS = 32
VOCAB = 16384
VAE_PREFIX = "first_stage_model."

TOKENS = "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"
IN_W, IN_B = "model.diffusion_model.input_blocks.0.0.weight", "model.diffusion_model.input_blocks.0.0.bias"
MID_W, MID_B = "model.diffusion_model.middle_block.0.in_layers.2.weight", "model.diffusion_model.middle_block.0.in_layers.2.bias"
OUT_W, OUT_B = "model.diffusion_model.out.2.weight", "model.diffusion_model.out.2.bias"

UNET_SHAPES = {
    TOKENS: (VOCAB, CHANNELS),
    IN_W: (CHANNELS, 4, 3, 3), IN_B: (CHANNELS,),
    MID_W: (CHANNELS, CHANNELS, 3, 3), MID_B: (CHANNELS,),
    OUT_W: (4, CHANNELS, 3, 3), OUT_B: (4,),
}
VAE_SHAPES = {
    "encoder.conv_out.weight": (4, 3, 1, 1), "encoder.conv_out.bias": (4,),
    "decoder.conv_in.weight": (16, 4, 3, 3), "decoder.conv_in.bias": (16,),
    "decoder.conv_out.weight": (3, 16, 3, 3), "decoder.conv_out.bias": (3,),
}


def random_weights(shapes, seed):
    """Weights scaled by fan-in so activations keep a useful spread through tanh."""
    generator = torch.Generator().manual_seed(seed)
    weights = {}
    for key, shape in shapes.items():
        fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
        scale = 0.1 if key.endswith("bias") else 1.5 / math.sqrt(fan_in)
        weights[key] = torch.randn(shape, generator=generator) * scale
    return weights


def checkpoint_weights(seed):
    vae = random_weights(VAE_SHAPES, seed + 1)
    return {**random_weights(UNET_SHAPES, seed), **{VAE_PREFIX + k: v for k, v in vae.items()}}


def vae_weights(seed):
    return random_weights(VAE_SHAPES, seed)


class TinySD:
    """What webui's code calls sd_model; sd_models sets the bookkeeping attributes."""

    latent_channels = 4
    is_sd1, is_sd2, is_sdxl, is_sd3 = True, False, False, False
    lowvram = False
    cond_stage_key = "txt"

    def __init__(self):
        self.weights = {}
        self.checkpoint_vae = {}
        self.first_stage = {}
        self.sd_checkpoint_info = None
        self.sd_model_hash = None
        self.sd_model_checkpoint = None
        self.loaded_vae_file = None

    def load_state_dict(self, state_dict):
        self.weights = {k: v.float() for k, v in state_dict.items() if k in UNET_SHAPES}
        self.checkpoint_vae = {k[len(VAE_PREFIX):]: v.float() for k, v in state_dict.items() if k.startswith(VAE_PREFIX)}
        self.first_stage = dict(self.checkpoint_vae)

    def load_vae_dict(self, vae_state_dict):
        self.first_stage = {k: vae_state_dict[k].float() for k in VAE_SHAPES}

    def restore_checkpoint_vae(self):
        self.first_stage = dict(self.checkpoint_vae)

    def get_learned_conditioning(self, prompts):
        """Mean token embedding of the prompt's words (crc32 token ids: stable across runs)."""
        table = self.weights[TOKENS]
        rows = []
        for text in prompts:
            ids = [zlib.crc32(word.encode()) % VOCAB for word in re.findall(r"\w+", text.lower())]
            rows.append(table[ids].mean(0) if ids else torch.zeros(CHANNELS))
        return torch.stack(rows)

    def apply_model(self, x, cond):
        w = self.weights
        h = F.silu(F.conv2d(x, w[IN_W], w[IN_B], padding=1) + cond[:, :, None, None])
        h = F.silu(F.conv2d(h, w[MID_W], w[MID_B], padding=1))
        return F.conv2d(h, w[OUT_W], w[OUT_B], padding=1)

    def denoise(self, x, cond, uncond, cfg_scale):
        """The model's guess of the clean latent, with classifier-free guidance."""
        c = self.apply_model(x, cond)
        u = self.apply_model(x, uncond)
        return torch.tanh(u + (c - u) * cfg_scale)

    def decode_first_stage(self, z):
        """Latent (B, 4, h, w) -> image tensor (B, 3, 8h, 8w) in [-1, 1]."""
        v = self.first_stage
        h = F.interpolate(z, scale_factor=8, mode="bilinear", align_corners=False)
        h = F.silu(F.conv2d(h, v["decoder.conv_in.weight"], v["decoder.conv_in.bias"], padding=1))
        return torch.tanh(F.conv2d(h, v["decoder.conv_out.weight"], v["decoder.conv_out.bias"], padding=1))

    def encode_first_stage(self, images):
        """Image tensor (B, 3, H, W) in [-1, 1] -> latent (B, 4, H/8, W/8)."""
        v = self.first_stage
        return torch.tanh(F.conv2d(F.avg_pool2d(images, 8), v["encoder.conv_out.weight"], v["encoder.conv_out.bias"]))
