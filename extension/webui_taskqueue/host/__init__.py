"""The boundary with the program that makes images: what the queue needs of it
(`contract`), webui v1.10.1 (`webui`, `webui_request`), Forge (`forge`: only what
differs), which one runs (`choose`), and webui's options as other threads see them
while a task runs (`thread_options`). Only `webui`, `webui_request` and `forge` import
webui's `modules`; nothing here knows of HTTP.

May import: records, intake."""
