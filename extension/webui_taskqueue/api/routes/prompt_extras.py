"""What webui knows by name that a request may use, for clients and the page to offer:
saved styles, LoRAs, embeddings (to put into a prompt) and the hires fix's upscalers.
Each is an empty list where webui has none, or where the part of webui that knows them
is absent (the Lora extension disabled)."""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, Depends

from .. import schemas
from .common import PREFIX, Caller, QueueRoute, Services, answers


def build(get_services: Callable[[], Services], caller: Callable) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["prompt extras"], route_class=QueueRoute)

    @router.get("/styles", response_model=schemas.StylesPublic, responses=answers())
    def styles(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """webui's saved styles: by name in `styles`, or applied to a prompt (a style's
        `{prompt}` is where the prompt goes; without one, the style follows the prompt)."""
        return services.queue.prompt_extras("styles")

    @router.get("/loras", response_model=schemas.LorasPublic, responses=answers())
    def loras(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """The LoRAs of webui's built-in Lora extension: a prompt calls one with
        `<lora:alias:weight>`."""
        return services.queue.prompt_extras("loras")

    @router.get("/embeddings", response_model=schemas.EmbeddingsPublic, responses=answers())
    def embeddings(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """The textual inversion embeddings loaded for the present model: a prompt
        calls one by its name."""
        return services.queue.prompt_extras("embeddings")

    @router.get("/upscalers", response_model=schemas.UpscalersPublic, responses=answers())
    def upscalers(services: Services = Depends(get_services), who: Caller = Depends(caller)):
        """The hires fix's upscalers (`hr_upscaler`), latent modes first, as webui lists them."""
        return services.queue.prompt_extras("upscalers")

    return router
