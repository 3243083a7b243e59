"""Names that only webui can check (hires upscaler, sampler and checkpoint, refiner,
styles) are checked at submit: a typo is a 422 naming the field, not a task that
fails, or silently runs without it, minutes later."""

import pytest

Q = "/queue/v1"


def small(**kw):
    return {"prompt": "a house", "steps": 2, "width": 64, "height": 64, "seed": 1, **kw}


@pytest.mark.parametrize("payload, field", [
    ({"enable_hr": True, "hr_upscaler": "no such upscaler"}, "hr_upscaler"),
    ({"enable_hr": True, "hr_checkpoint_name": "no such checkpoint"}, "hr_checkpoint_name"),
    ({"enable_hr": True, "hr_sampler_name": "no such sampler"}, "hr_sampler_name"),
    ({"refiner_checkpoint": "no such checkpoint", "refiner_switch_at": 0.5}, "refiner_checkpoint"),
    ({"styles": ["no such style"]}, "styles.0"),
])
def test_a_name_webui_does_not_know_is_refused_at_submit(target, payload, field):
    target.refuses(small(**payload), field)


def test_the_names_webui_knows_are_taken(target, models):
    payload = small(enable_hr=True, hr_scale=1.5, hr_upscaler="Latent", hr_second_pass_steps=1, denoising_strength=0.5,
                    hr_sampler_name="Euler", hr_checkpoint_name="Use same checkpoint", checkpoint=models[0][0])
    r = target.post(f"{Q}/txt2img", json=payload)
    assert r.status_code == 202, r.text
    assert target.wait(r.json()["task_id"])["status"] == "done"
