"""Scripts, as webui's own API takes them: `script_name` + `script_args` for a selectable
script, `alwayson_scripts` by title; names checked at submit; a script that switches
the model inside a job leaves webui's default model as it was."""

import io

import pytest
from PIL import Image, ImageStat

from .client import model_hash

Q = "/queue/v1"


def small(**kw):
    return {"prompt": "a house", "steps": 2, "width": 64, "height": 64, "seed": 1, **kw}


def infotext_field(infotext, name):
    for part in infotext.split("\n")[-1].split(", "):
        if part.startswith(name + ": "):
            return part[len(name) + 2:]
    return None


def scripts(target, kind="txt2img"):
    r = target.get(f"{Q}/scripts")
    assert r.status_code == 200, r.text
    return {s["name"]: s for s in r.json()[kind]}


def test_the_scripts_route_lists_each_tabs_selectable_and_always_on_scripts_with_their_arguments(target):
    for kind in ("txt2img", "img2img"):
        found = scripts(target, kind)
        assert not found["Prompt matrix"]["alwayson"] and not found["X/Y/Z plot"]["alwayson"]
        labels = [a["label"] for a in found["X/Y/Z plot"]["args"]]
        assert labels[:3] == ["X type", "X values", "X values"] and len(labels) >= 18
        assert "Checkpoint name" in found["X/Y/Z plot"]["args"][0]["choices"]


@pytest.mark.parametrize("payload, field", [
    ({"script_name": "no such script"}, "script_name"),
    ({"alwayson_scripts": {"no such script": {"args": []}}}, "alwayson_scripts.no such script"),
    ({"alwayson_scripts": {"Prompt matrix": {"args": []}}}, "alwayson_scripts.Prompt matrix"),
    ({"alwayson_scripts": {"Prompt matrix": [1, 2]}}, "alwayson_scripts.Prompt matrix"),
    ({"alwayson_scripts": {"": {}}}, "alwayson_scripts."),  # webui's lookup answers a tuple for ""
    ({"alwayson_scripts": {"": {"args": []}}}, "alwayson_scripts."),
    ({"script_args": [1, 2]}, "script_args"),
])
def test_a_script_webui_would_not_run_that_way_is_refused_at_submit_naming_it(target, payload, field):
    target.refuses(small(**payload), field)


def test_prompt_matrix_runs_every_combination(target, models):
    args = [a["value"] for a in scripts(target)["Prompt matrix"]["args"]]
    task = target.wait(target.submit(small(prompt="a house|red roof|snow", script_name="Prompt matrix", script_args=args,
                                           checkpoint=models[0][0])))
    assert task["status"] == "done", task
    assert len(task["images"]) == 4
    prompts = {t.split("\n")[0] for t in task["infotexts"]}
    assert prompts == {"a house", "a house, red roof", "a house, snow", "a house, red roof, snow"}
    assert len(task["grids"]) == 1  # the script's grid, kept apart from the images
    grid = target.get(task["grids"][0])
    assert grid.status_code == 200 and grid.headers["content-type"] == "image/png"
    cell = target.image(task)
    width, height = Image.open(io.BytesIO(grid.content)).size
    assert width >= cell.width * 2 and height >= cell.height * 2  # 2 x 2 cells (webui adds labels)


def test_xyz_plot_over_checkpoints_makes_each_image_on_its_model_and_leaves_the_default_alone(target, models):
    default = target.options()["sd_model_checkpoint"]
    xyz = scripts(target)["X/Y/Z plot"]
    args = [a["value"] for a in xyz["args"]]
    args[0] = xyz["args"][0]["choices"].index("Checkpoint name")  # X type (webui takes the index)
    args[1], args[2] = "", [title for title, _ in models]  # X values: the dropdown's list
    args[3], args[6] = 0, 0  # no Y, no Z axis
    args[4], args[5], args[7], args[8] = "", [], "", []
    args[10] = True  # Include Sub Images: the cells too, not only the grid
    task = target.wait(target.submit(small(script_name="X/Y/Z plot", script_args=args)))
    assert task["status"] == "done", task
    assert len(task["images"]) == len(models) and len(task["grids"]) == 1
    made_by = [infotext_field(t, "Model") for t in task["infotexts"]]
    assert made_by == [title.split(".")[0].split(" ")[0] for title, _ in models]
    assert len({model_hash(t) for t in task["infotexts"]}) == len(models)
    assert target.options()["sd_model_checkpoint"] == default


def test_an_always_on_scripts_arguments_reach_it(target, models):
    if target.real:
        pytest.skip("the stand-in's Tint script shows always-on arguments in pixels; webui has no such script")
    plain = target.wait(target.submit(small(checkpoint=models[0][0])))
    tinted = target.wait(target.submit(small(checkpoint=models[0][0], alwayson_scripts={"Tint": {"args": [True, 0.8]}})))
    assert plain["status"] == tinted["status"] == "done"
    red = [ImageStat.Stat(target.image(t).convert("RGB")).mean[0] for t in (plain, tinted)]
    assert red[1] > red[0] + 50
    assert tinted["params"]["alwayson_scripts"] == {"Tint": {"args": [True, 0.8]}}
