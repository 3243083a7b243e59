"""The stand-in webui used by the tests: a fake `modules` package (importable once this
package is imported) that re-implements, with real work, the webui v1.10.1 behaviours the
extension relies on, traps included. `boot()` starts it in-process; server.py serves it."""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.append(_here)  # makes `from modules import shared` work

from .startup import boot, load_extension_scripts, reset  # noqa: E402

__all__ = ["boot", "load_extension_scripts", "reset"]
