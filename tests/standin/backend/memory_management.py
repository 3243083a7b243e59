"""Forge's backend/memory_management.py: the global unload, counted so that tests can
see what it costs."""

import logging

log = logging.getLogger(__name__)

unloads = 0  # stand-in only: how many times everything was unloaded


def unload_all_models():
    global unloads
    unloads += 1
    log.info("Unloading all models (global unload %d)", unloads)


def soft_empty_cache():
    pass
