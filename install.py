"""webui's install hook: installs what requirements.txt names and webui lacks, nothing else."""

import os

import launch  # webui's own module, present when webui runs this file

_REQUIREMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requirements.txt")
_IMPORT_NAMES = {"Pillow": "PIL"}

with open(_REQUIREMENTS, encoding="utf-8") as f:
    for line in f:
        requirement = line.split("#", 1)[0].strip()
        if requirement and not launch.is_installed(_IMPORT_NAMES.get(requirement, requirement)):
            launch.run_pip(f"install {requirement}", f"task queue requirement: {requirement}")
