"""The Redis store's multi-key changes, as Lua scripts (`lua/*.lua`): Redis runs each one
whole, with nothing else in between, so a claim, a quota check or a final state with its event and
webhook can never be seen half done, nor won by two boxes.

Every task field is kept as its JSON text, written by Python; the scripts copy those
texts and decode only strings (status, owner), never numbers, so no time loses digits.
Keys are built in the scripts from the prefix (ARGV[1]): one Redis server, not a cluster.
ARGV[2] is always the event window (store.push.EVENTS_KEPT). A script whose first line
is `-- with NAME.lua` runs with that file's text in front of its own: the helpers
`common.lua` (keys, the change log, events, transitions) and `holder.lua` (a box's name)."""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from typing import Dict

from ...records.tasks import Queued

LIGHT = [f.name for f in dataclasses.fields(Queued)]  # a light record: these fields' JSON, as an array
QLOG_KEPT = 10_000  # changes of the queued set a box can catch up with, instead of reading it all
FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lua")
HELPERS = ("common", "holder")  # put in front of the scripts that name them, never run alone
_WITH = re.compile(r"-- with ([a-z_]+)\.lua\n")


def text(name: str) -> str:
    with open(os.path.join(FOLDER, name + ".lua"), encoding="utf-8") as f:
        return f.read()


@functools.lru_cache(maxsize=1)
def sources() -> Dict[str, str]:
    """Each script's name (its file's, without .lua) -> the Lua that Redis runs."""
    found = {}
    for file in sorted(os.listdir(FOLDER)):
        name = file[:-len(".lua")]
        if not file.endswith(".lua") or name in HELPERS:
            continue
        own = text(name)
        helper = _WITH.match(own)
        found[name] = (text(helper.group(1)) + own) if helper else own
    return found
