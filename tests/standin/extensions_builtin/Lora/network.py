"""A LoRA file on disk, as webui's extensions-builtin/Lora/network.py reads it: the name
from the file, the alias from its safetensors metadata (`ss_output_name`)."""

import json
import os
import struct

from modules import shared


def read_metadata(filename):
    """The __metadata__ of a safetensors header, as webui's read_metadata_from_safetensors."""
    with open(filename, "rb") as file:
        size = struct.unpack("<Q", file.read(8))[0]
        header = json.loads(file.read(size))
    return header.get("__metadata__", {}) or {}


class NetworkOnDisk:
    def __init__(self, name, filename):
        self.name, self.filename = name, filename
        self.is_safetensors = os.path.splitext(filename)[1].lower() == ".safetensors"
        self.metadata = read_metadata(filename) if self.is_safetensors else {}
        self.alias = self.metadata.get("ss_output_name", self.name)

    def get_alias(self):
        import networks

        if shared.opts.data.get("lora_preferred_name") == "Filename" or self.alias.lower() in networks.forbidden_network_aliases:
            return self.name
        return self.alias
