"""Forge's own package, as far as the stand-in's Forge mode (`--forge`) reproduces it."""
