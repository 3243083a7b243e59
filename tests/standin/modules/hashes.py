"""sha256 of model files, cached by title and mtime in data_path/cache.json (webui's hashes.py)."""

import hashlib
import json
import logging
import os

from modules import paths_internal, shared

log = logging.getLogger(__name__)

caches = {}


def cache_filename():
    return os.path.join(paths_internal.data_path, "cache.json")


def cache(subsection):
    if not caches:
        try:
            with open(cache_filename(), encoding="utf8") as file:
                caches.update(json.load(file))
        except (FileNotFoundError, ValueError):
            pass
    return caches.setdefault(subsection, {})


def dump_cache():
    with open(cache_filename(), "w", encoding="utf8") as file:
        json.dump(caches, file, indent=4)


def calculate_sha256(filename):
    digest = hashlib.sha256()
    with open(filename, "rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_from_cache(filename, title):
    hashes = cache("hashes")
    try:
        ondisk_mtime = os.path.getmtime(filename)
    except FileNotFoundError:
        return None
    entry = hashes.get(title)
    if entry is None or entry.get("sha256") is None or ondisk_mtime > entry.get("mtime", 0):
        return None
    return entry["sha256"]


def sha256(filename, title):
    value = sha256_from_cache(filename, title)
    if value is not None:
        return value
    if shared.cmd_opts.no_hashing:
        return None
    value = calculate_sha256(filename)
    log.info("Calculated sha256 for %s: %s", filename, value)
    cache("hashes")[title] = {"mtime": os.path.getmtime(filename), "sha256": value}
    dump_cache()
    return value
