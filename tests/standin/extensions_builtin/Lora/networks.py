"""webui's extensions-builtin/Lora/networks.py, its list of networks only: the files in
--lora-dir (default: <data dir>/models/Lora), listed when the module is imported."""

import os

import network
from modules import shared

available_networks = {}
available_network_aliases = {}
forbidden_network_aliases = {}


def list_available_networks():
    available_networks.clear()
    available_network_aliases.clear()
    forbidden_network_aliases.clear()
    forbidden_network_aliases.update({"none": 1, "Addams": 1})
    os.makedirs(shared.cmd_opts.lora_dir, exist_ok=True)
    for root, _, files in sorted(os.walk(shared.cmd_opts.lora_dir, followlinks=True)):
        for filename in sorted(files):
            if os.path.splitext(filename)[1].lower() not in (".pt", ".ckpt", ".safetensors"):
                continue
            name = os.path.splitext(filename)[0]
            entry = network.NetworkOnDisk(name, os.path.join(root, filename))
            available_networks[name] = entry
            if entry.alias in available_network_aliases:
                forbidden_network_aliases[entry.alias.lower()] = 1
            available_network_aliases[name] = entry
            available_network_aliases[entry.alias] = entry


list_available_networks()
