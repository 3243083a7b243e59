"""The Redis store's Lua scripts: every one loads, each helper it names is put in front,
and the constants the helpers spell out match the Python records they mirror."""

import re

from webui_taskqueue.records.tasks import FINAL_STATUSES
from webui_taskqueue.store.redis import scripts


def test_every_script_file_is_a_script_or_a_helper_and_loads():
    names = set(scripts.sources())
    assert names == {"add", "transition", "reorder", "delete", "append_events", "claim_deliveries", "queued",
                     "reap", "claim_box", "forget_box", "add_user", "delete_user", "add_key", "delete_key"}
    assert not names & set(scripts.HELPERS)


def test_a_script_that_names_a_helper_runs_with_it_in_front():
    assert scripts.sources()["add"].startswith(scripts.text("common"))
    assert scripts.sources()["claim_box"].startswith(scripts.text("holder"))
    assert scripts.sources()["claim_deliveries"] == scripts.text("claim_deliveries")


def test_the_helpers_constants_match_the_records():
    common = scripts.text("common")
    final = re.search(r"local FINAL = \{(.*)\}", common).group(1)
    assert sorted(re.findall(r"(\w+) = true", final)) == sorted(s.value for s in FINAL_STATUSES)
    light = re.search(r"HMGET', tkey\(id\), (.*)\), ','\)", common).group(1)
    assert re.findall(r"'(\w+)'", light) == scripts.LIGHT
    assert f"'MAXLEN', '~', {scripts.QLOG_KEPT}," in common
