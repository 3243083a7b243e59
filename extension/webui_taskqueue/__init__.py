"""A multi-user task queue for stable-diffusion-webui.

Importing this package has no side effects: nothing opens a database or starts a
thread until `runtime.start()` is called by the entry script.
"""

__version__ = "0.1.0"
