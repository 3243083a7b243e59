"""Which program the queue runs in, decided once at start from what the process imported
(never from version strings): Forge 2.x (`modules_forge` with its `backend`), webui
(`modules` alone), or a program the queue does not know, whose worker must not start.
An unknown host still gets webui's boundary, so that the routes answer (health says why
nothing runs)."""

from __future__ import annotations

import sys
from typing import Mapping, Optional, Tuple

from .contract import Host

SUPPORTED = ("AUTOMATIC1111 stable-diffusion-webui v1.x (tested v1.10.1) and "
             "Forge 2.x, lllyasviel/stable-diffusion-webui-forge (tested at dfdcbab6)")
# packages that only webui's forks import: their model code is not webui's
FORK_MARKS = ("modules_forge", "backend", "ldm_patched")


def detect(imported: Mapping[str, object]) -> Tuple[Optional[str], str]:
    """("webui" | "forge" | None, what was seen)."""
    marks = [name for name in FORK_MARKS if name in imported]
    if "modules" not in imported:
        return None, "webui's `modules` package is not imported"
    if "modules_forge" in imported and "backend" in imported and "ldm_patched" not in imported:
        return "forge", "modules, modules_forge and backend"
    if not marks:
        return "webui", "modules"
    return None, f"modules with {', '.join(marks)}: a fork of webui this queue does not know"


def select(imported: Optional[Mapping[str, object]] = None) -> Host:
    kind, seen = detect(sys.modules if imported is None else imported)
    if kind == "forge":
        from .forge import ForgeHost

        return ForgeHost()
    from .webui import WebuiHost

    host = WebuiHost()
    if kind is None:
        host.name = "unknown"
        host.refusal = (f"task queue: unknown host (imported {seen}); the worker does not start and no task runs. "
                        f"Supported: {SUPPORTED}.")
    return host
