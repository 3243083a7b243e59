"""webui's paths.py, as far as the stand-in uses it: the models folder (the one over the
checkpoint folder and the VAE folder), set at boot."""

models_path = None
