"""`python -m webui_taskqueue users ...`: see cli.py."""

from .cli import main

raise SystemExit(main())
