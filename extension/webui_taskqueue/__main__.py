"""`python -m webui_taskqueue users ...`: see people/cli.py."""

from .people.cli import main

raise SystemExit(main())
