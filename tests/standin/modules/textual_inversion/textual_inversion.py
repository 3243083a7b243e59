"""webui's modules/textual_inversion/textual_inversion.py, as far as its embedding database
goes (the stand-in keeps it in sd_hijack). Forge's API holds one of its own, loaded with
sync_with_sd_model=False: no expected width, so every embedding counts as loaded."""

from modules import sd_hijack


class EmbeddingDatabase(sd_hijack.EmbeddingDatabase):
    def load_textual_inversion_embeddings(self, force_reload=False, sync_with_sd_model=True):
        self.expected_shape = sd_hijack.EXPECTED_SHAPE if sync_with_sd_model else -1
        super().load_textual_inversion_embeddings(force_reload)
