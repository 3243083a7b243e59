"""A fixture for tests that must queue valid tasks without running them: the queue
is paused while the test runs, and what it queued is cancelled afterwards."""

import pytest

Q = "/queue/v1"


class Held:
    def __init__(self, target):
        self.target, self.ids = target, []

    def submit(self, payload, kind="txt2img"):
        return self.track(self.target.submit(payload, kind))

    def track(self, task_id):
        self.ids.append(task_id)
        return task_id


@pytest.fixture
def paused(target):
    """The queue paused (as an admin: on a real webui, run the suite as one)."""
    was = target.get(f"{Q}/queue").json()["paused"]
    r = target.post(f"{Q}/queue/pause")
    assert r.status_code == 200, r.text
    held = Held(target)
    try:
        yield held
    finally:
        for task_id in held.ids:
            r = target.post(f"{Q}/tasks/{task_id}/interrupt")
            assert r.status_code in (200, 409), r.text
        if not was:
            target.post(f"{Q}/queue/resume")
