"""The event stream over real HTTP: a client that follows it sees the states a poller
sees, in the same order; other users' tasks never reach it; a client that drops and
comes back with Last-Event-ID gets exactly what a client that stayed got; without it,
a snapshot of the open tasks comes first."""

import json
import threading
import time

import jsonschema_rs  # (schemathesis brings it)

from .client import FINAL
from .push import Stream

SMALL = {"prompt": "a stream", "steps": 8, "width": 64, "height": 64}
STATUS_OF = {"submitted": "queued", "position": "queued", "started": "running", "progress": "running",
             "preview": "running"}


def statuses(events):
    """The states a stream's events tell, without repeats."""
    seen = []
    for _, kind, data in events:
        status = data["status"] if kind == "final" else STATUS_OF[kind]
        if not seen or seen[-1] != status:
            seen.append(status)
    return seen


def poll(client, task_id, seen, stop):
    while not stop.is_set():
        status = client.task(task_id)["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in FINAL:
            return
        time.sleep(0.01)


def test_a_stream_shows_the_same_states_as_polling_and_the_final_task_object(admin):
    stream = Stream(admin)
    try:
        assert stream.status == 200 and stream.content_type.startswith("text/event-stream")
        admin.post("/queue/v1/queue/pause")  # so that the poller sees it queued too
        try:
            task_id = admin.submit(SMALL)
            seen, stop = [], threading.Event()
            poller = threading.Thread(target=poll, args=(admin, task_id, seen, stop))
            poller.start()
            time.sleep(0.1)
        finally:
            admin.post("/queue/v1/queue/resume")
        final = stream.wait_for(task_id, "final")
        poller.join(60)
        assert statuses(stream.of(task_id)) == seen == ["queued", "running", "done"]
        assert final[2] == admin.task(task_id)
        kinds = [kind for _, kind, _ in stream.of(task_id)]
        assert kinds[0] == "submitted" and kinds[-1] == "final" and "started" in kinds
        ids = [e[0] for e in stream.events]
        assert ids == sorted(ids) and len(ids) == len(set(ids))
        progress = [data for _, kind, data in stream.of(task_id) if kind == "progress"]
        assert progress and all(0 <= p["fraction"] <= 1 and p["steps"] == 8 for p in progress)
        for _, kind, data in stream.of(task_id):
            if kind == "preview":
                assert data["url"].startswith(f"/queue/v1/tasks/{task_id}/preview")
    finally:
        stream.close()


def test_other_users_tasks_never_appear_and_only_admins_follow_everyone(admin, people):
    ann, bob = people
    ann_stream, everyone = Stream(ann), Stream(admin, params={"all": "true"})
    try:
        mine, theirs = ann.submit(SMALL), bob.submit(SMALL)
        for task_id in (mine, theirs):
            everyone.wait_for(task_id, "final")
        ann_stream.wait_for(mine, "final")
        time.sleep(0.5)
        assert {e[2]["task_id"] for e in ann_stream.events} == {mine}
        refused = Stream(bob, params={"all": "true"})
        assert refused.status == 403, refused.status
        refused.close()
    finally:
        ann_stream.close()
        everyone.close()


def test_a_client_that_reconnects_with_last_event_id_misses_nothing(admin, people):
    ann, _ = people
    stayed = Stream(ann)
    dropping = Stream(ann)
    try:
        first = ann.submit(SMALL)
        dropping.wait_for(first, "final")
        last_seen = dropping.events[-1][0]
        dropping.close()
        missed = [ann.submit(SMALL) for _ in range(2)]  # while it is away
        for task_id in missed:
            stayed.wait_for(task_id, "final")
        back = Stream(ann, last_event_id=last_seen)
        try:
            back.wait_for(missed[-1], "final")
            later = ann.submit(SMALL)
            for s in (stayed, back):
                s.wait_for(later, "final")
            time.sleep(0.5)
            after = [e for e in stayed.events if e[0] > last_seen]
            assert [(i, k) for i, k, _ in back.events] == [(i, k) for i, k, _ in after]
            assert [e[0] for e in dropping.events] + [e[0] for e in back.events] == [e[0] for e in stayed.events]
        finally:
            back.close()
    finally:
        stayed.close()


def test_without_last_event_id_a_snapshot_of_the_open_tasks_comes_first(admin, people):
    ann, _ = people
    admin.post("/queue/v1/queue/pause")
    try:
        queued = [ann.submit(SMALL) for _ in range(2)]
        stream = Stream(ann, last_event_id="not-a-number")
        try:
            deadline = time.monotonic() + 10
            while len(stream.events) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            snapshot = stream.events[:2]
            assert [(e[1], e[2]["task_id"], e[2]["snapshot"]) for e in snapshot] == \
                   [("submitted", task_id, True) for task_id in queued]
            assert [e[2]["position"] is not None for e in snapshot] == [True, True]
            assert snapshot[0][0] == snapshot[1][0]  # the id of the log's head: resume from there
        finally:
            stream.close()
    finally:
        admin.post("/queue/v1/queue/resume")
    for task_id in queued:
        ann.wait(task_id)


def test_open_streams_do_not_hold_up_stopping_the_server(standin_factory):
    server = standin_factory(step_seconds=0.02).start()
    streams = [Stream(server.client()) for _ in range(3)]
    try:
        started = time.monotonic()
        server.stop()
        assert server.process.returncode is not None and time.monotonic() - started < 8
        for stream in streams:
            stream._thread.join(5)
            assert not stream._thread.is_alive()  # the server ended the stream
    finally:
        for stream in streams:
            stream.close()


def test_every_event_the_stream_sends_fits_the_document(admin, people):
    """The OpenAPI document describes one event (`event`, `id`, `data`) and the JSON of each
    kind's data: what the stream sends of a task's whole life, snapshot and replay
    included, fits it."""
    ann, _ = people
    doc = admin.get("/openapi.json").json()["paths"]["/queue/v1/events"]["get"]["responses"]["200"]
    schema = doc["content"]["text/event-stream"]["schema"]
    data_schemas = schema["x-data-schemas"]
    event_schema = {k: v for k, v in schema.items() if not k.startswith("x-")}
    stream = Stream(ann)
    try:
        task_id = ann.submit(SMALL)
        stream.wait_for(task_id, "final")
        replay = Stream(ann, last_event_id=stream.events[0][0])  # resumed after the first
        try:
            replay.wait_for(task_id, "final")
            frames = stream.frames + replay.frames
        finally:
            replay.close()
        admin.post("/queue/v1/queue/pause")  # a task still open when a stream starts: in its snapshot
        try:
            waiting = ann.submit(SMALL)
            snapshot = Stream(ann)
            try:
                snapshot.wait_for(waiting, "submitted")
                frames += snapshot.frames
            finally:
                snapshot.close()
        finally:
            admin.post("/queue/v1/queue/resume")
    finally:
        stream.close()
    kinds = set()
    for frame in frames:
        jsonschema_rs.validate(event_schema, frame)
        jsonschema_rs.validate(data_schemas[frame["event"]], json.loads(frame["data"]))
        kinds.add(frame["event"])
    assert {"submitted", "started", "progress", "final"} <= kinds, kinds
    assert any(json.loads(frame["data"]).get("snapshot") for frame in frames)
