"""Numbers at every bound are taken, and one step beyond it they are refused with a
422 that names the field; the answer is documented either way.

The bounds set in Settings > Task queue are read from the target's options, so the
suite holds against a real webui whose owner changed them. Tasks taken at a bound
are queued while the queue is paused, and cancelled: none runs."""

import pytest

from .documented import Document
from .held import paused  # noqa: F401 (a fixture)

Q = "/queue/v1"
SEED_MAX = 2**64 - 1
DEFAULTS = {"max_width": 2048, "max_height": 2048, "max_steps": 150, "max_batch_size": 8, "max_n_iter": 16}


@pytest.fixture(scope="module")
def doc(target):
    return Document(target.get("/openapi.json").json())


@pytest.fixture(scope="module")
def limits(target):
    r = target.get("/sdapi/v1/options")
    options = r.json() if r.status_code == 200 else {}
    return {name: options.get(f"task_queue_{name}") or default for name, default in DEFAULTS.items()}


def base(**kw):
    return {"prompt": "bounds", "steps": 1, "width": 64, "height": 64, **kw}


def at_and_beyond(limits):
    """(field, values taken, values refused), for a txt2img request."""
    w, h, steps = limits["max_width"], limits["max_height"], limits["max_steps"]
    return [
        ("width", [64, w], [56, w + 8, 65, 0, -64]),
        ("height", [64, h], [56, h + 8, 100]),
        ("steps", [1, steps], [0, steps + 1, -1]),
        ("batch_size", [1, limits["max_batch_size"]], [0, limits["max_batch_size"] + 1]),
        ("n_iter", [1, limits["max_n_iter"]], [0, limits["max_n_iter"] + 1]),
        ("seed", [-1, 0, SEED_MAX], [-2, SEED_MAX + 1, 10**30]),
        ("subseed", [-1, SEED_MAX], [-2, SEED_MAX + 1]),
        ("cfg_scale", [0, 100, 7.5], [-0.5, 100.5]),
        ("denoising_strength", [0, 1, 0.75], [-0.01, 1.01]),
        ("subseed_strength", [0, 1], [-0.01, 1.01]),
        ("hr_second_pass_steps", [0, steps], [-1, steps + 1]),
        ("seed_resize_from_w", [-1, 0, 64, w], [-2, 8, w + 8]),
        ("s_churn", [0.0, 1e6], [1e300]),
    ]


FIELDS = [c[0] for c in at_and_beyond(DEFAULTS)]  # the values depend on the target's limits: read in the tests


@pytest.mark.parametrize("field", FIELDS)
def test_number_at_its_bound_is_taken(target, doc, paused, limits, field):
    taken = next(c[1] for c in at_and_beyond(limits) if c[0] == field)
    for value in taken:
        r = doc.check(target.post(f"{Q}/txt2img", json=base(**{field: value})))
        assert r.status_code == 202, (field, value, r.text)
        paused.track(r.json()["task_id"])
        assert target.task(r.json()["task_id"])["params"][field] == value


@pytest.mark.parametrize("field", FIELDS)
def test_number_beyond_its_bound_is_refused_naming_it(target, doc, limits, field):
    refused = next(c[2] for c in at_and_beyond(limits) if c[0] == field)
    for value in refused:
        r = doc.check(target.post(f"{Q}/txt2img", json=base(**{field: value})))
        assert r.status_code == 422, (field, value, r.text)
        assert any(e["loc"] == ["body", field] for e in r.json()["detail"]), r.text


def test_seed_leaves_room_for_every_image_of_the_task(target, doc, limits):
    """webui seeds a task's images seed, seed+1, ...: the last one must still be a seed."""
    r = doc.check(target.post(f"{Q}/txt2img", json=base(seed=SEED_MAX, batch_size=2)))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "seed"], r.text


def test_hires_size_beyond_the_limits_is_refused(target, doc, limits):
    r = doc.check(target.post(f"{Q}/txt2img", json=base(width=limits["max_width"], enable_hr=True, hr_scale=2)))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "hr_scale"], r.text


def test_priority_at_and_beyond_its_bounds(target, doc, paused):
    task_id = paused.submit(base())
    for value in (-1000, 0, 1000):
        r = doc.check(target.patch(f"{Q}/tasks/{task_id}", json={"priority": value}))
        assert r.status_code == 200, r.text
    for value in (-1001, 1001, 10**30, 1.5, "5", True, None):
        r = doc.check(target.patch(f"{Q}/tasks/{task_id}", json={"priority": value}))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "priority"], (value, r.text)


@pytest.mark.parametrize("path, name, taken, refused", [
    ("/tasks", "limit", [1, 500], [0, 501, -1, 10**30, "x", ""]),
    ("/tasks", "offset", [0, 10**9], [-1, 10**9 + 1, 2**63, 10**30, "1.5"]),
    ("/queue", "limit", [1, 10000], [0, 10001, 10**30]),
    ("/queue", "offset", [0, 10**9], [-1, 10**9 + 1, 2**64]),
])
def test_paging_at_and_beyond_its_bounds(target, doc, path, name, taken, refused):
    for value in taken:
        r = doc.check(target.get(Q + path, params={name: value}))
        assert r.status_code == 200, (name, value, r.text[:300])
    for value in refused:
        r = doc.check(target.get(Q + path, params={name: value}))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", name], (name, value, r.text[:300])
