"""Every number of a request has a range that webui can run; one step past it is
refused naming the field, its range and the setting that sets it."""

import pytest

from webui_taskqueue.intake.limits import RANGES, SEED_MAX, Limits

LIMITS = Limits(max_width=1024, max_height=768, max_steps=50, max_batch_size=4, max_n_iter=3)


def problems(**params):
    return {e["loc"][1]: e["msg"] for e in LIMITS.problems(params)}


@pytest.mark.parametrize("field, taken, refused", [
    ("width", [64, 1024], [56, 1032, 100]),
    ("height", [64, 768], [776, 60]),
    ("steps", [1, 50], [0, 51]),
    ("batch_size", [1, 4], [0, 5]),
    ("n_iter", [1, 3], [0, 4]),
    ("hr_second_pass_steps", [0, 50], [-1, 51]),
    ("seed", [-1, 0, SEED_MAX], [-2, SEED_MAX + 1, 10**40]),
    ("subseed", [-1, SEED_MAX], [-2, SEED_MAX + 1]),
    ("hr_resize_x", [0, 64, 1024], [8, 63, 1032, -8]),
    ("firstphase_height", [0, 768], [40, 776]),
    ("seed_resize_from_w", [-1, 0, 1024], [-2, 16, 1025]),
    *[(name, [low, high], [low - 0.5, high + 0.5]) for name, (low, high) in RANGES.items()],
    ("s_churn", [0.0, 1e18], [1e19, -1e19]),  # no range of its own: a 64-bit number
])
def test_number_at_its_bound_is_taken_and_beyond_it_refused(field, taken, refused):
    pair = {"firstphase_width": 64} if field == "firstphase_height" else {}
    for value in taken:
        assert field not in problems(**{field: value}, **(pair if value else {})), value
    for value in refused:
        assert field in problems(**{field: value}, **pair), value


def test_refusal_names_the_range_and_the_setting():
    assert problems(steps=51)["steps"] == "must be between 1 and 50 (limit max_steps), got 51"
    assert problems(width=1030)["width"] == "must be a multiple of 8, got 1030"
    assert "-1: random" in problems(seed=-7)["seed"]
    assert problems(seed=10**400)["seed"].endswith("(401 digits)")  # no 400-digit echo


def test_seed_leaves_room_for_each_image_of_the_task():
    assert "seed" in problems(seed=SEED_MAX, batch_size=2)
    assert "seed" not in problems(seed=SEED_MAX - 5, batch_size=2, n_iter=3)
    assert "seed" in problems(seed=SEED_MAX - 4, batch_size=2, n_iter=3)


def test_first_pass_size_comes_as_a_pair():
    assert "firstphase_width" in problems(firstphase_height=64)
    assert not problems(firstphase_width=64, firstphase_height=64)


def test_hires_size_stays_within_the_limits():
    assert "hr_scale" in problems(enable_hr=True, width=512, height=512, hr_scale=2.5)  # 1280 > 1024
    assert not problems(enable_hr=True, width=512, height=384, hr_scale=2)
    assert "hr_resize_x" in problems(enable_hr=True, width=1024, height=64, hr_resize_x=512)  # 512 x 32
    assert not problems(enable_hr=True, hr_resize_x=1024, hr_resize_y=768)
    assert not problems(hr_scale=16, width=1024)  # hires off: not checked


def test_bounds_follow_the_settings():
    assert not Limits(max_steps=500).problems({"steps": 400})
