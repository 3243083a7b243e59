"""Forge's model backend, as far as the stand-in's Forge mode (`--forge`) reproduces it."""
