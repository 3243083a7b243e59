"""The part of webui's scripts.py an extension's entry script may call while it loads."""

import os

current_basedir = os.getcwd()


def basedir():
    """The directory of the extension whose script is being loaded."""
    return current_basedir
