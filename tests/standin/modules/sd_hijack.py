"""webui's model_hijack, as far as its textual inversion embeddings go: the embedding
database of modules/textual_inversion, filled from --embeddings-dir (default:
<data dir>/embeddings) when a model loads. An embedding whose vectors do not have the
width SD1.5's text encoder expects (768) is skipped, as webui skips one made for
another model."""

import os

import safetensors.torch

EXPECTED_SHAPE = 768  # SD1.5's text embedding width


class Embedding:
    def __init__(self, name, vec, filename):
        self.name, self.vec, self.filename = name, vec, filename
        self.shape, self.vectors = int(vec.shape[-1]), int(vec.shape[0])
        self.step = self.sd_checkpoint = self.sd_checkpoint_name = None


class EmbeddingDatabase:
    def __init__(self):
        self.word_embeddings = {}
        self.skipped_embeddings = {}
        self.embedding_dirs = []
        self.expected_shape = EXPECTED_SHAPE

    def add_embedding_dir(self, path):
        if path not in self.embedding_dirs:
            self.embedding_dirs.append(path)

    def load_textual_inversion_embeddings(self, force_reload=False):
        self.word_embeddings.clear()
        self.skipped_embeddings.clear()
        for folder in self.embedding_dirs:
            if not os.path.isdir(folder):
                continue
            for root, _, files in os.walk(folder, followlinks=True):
                for filename in files:
                    name, ext = os.path.splitext(filename)
                    if ext.lower() != ".safetensors":
                        continue
                    path = os.path.join(root, filename)
                    try:
                        vec = safetensors.torch.load_file(path)["emb_params"]
                    except Exception:  # webui reports a file it cannot read and goes on
                        continue
                    embedding = Embedding(name, vec, path)
                    fits = self.expected_shape in (-1, embedding.shape)  # -1: not checked (Forge's API)
                    found = self.word_embeddings if fits else self.skipped_embeddings
                    found[name] = embedding
        # as webui: sorted by name
        ordered = sorted(self.word_embeddings.values(), key=lambda e: e.name.lower())
        self.word_embeddings.clear()
        self.word_embeddings.update({e.name: e for e in ordered})


class StableDiffusionModelHijack:
    def __init__(self):
        self.embedding_db = EmbeddingDatabase()


model_hijack = StableDiffusionModelHijack()


def reset(embeddings_dir):
    """A new database over `embeddings_dir` (the stand-in's start, as webui's import)."""
    global model_hijack
    model_hijack = StableDiffusionModelHijack()
    model_hijack.embedding_db.add_embedding_dir(embeddings_dir)
