"""A queue user cannot make the box read its own files or fetch URLs through a
request's images: script arguments in image slots must be base64 image data, and
URLs are refused everywhere webui would download them. Refused at submit, 422 naming
the argument's path, nothing queued."""

import base64
import io

import pytest
from PIL import Image


def png():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 255)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def small(**kw):
    return {"prompt": "x", "steps": 2, "width": 64, "height": 64, **kw}


def tint(*args):
    """An always-on script the stand-in and every test webui has, with `args`."""
    return {"Tint": {"args": list(args)}}


REFUSED = [
    # ControlNet's unit: a string that names a file is opened as that file
    (small(alwayson_scripts=tint({"image": "/etc/passwd"})), "alwayson_scripts.Tint.args.0.image"),
    (small(alwayson_scripts=tint({"image": "outputs/txt2img-images/00001-1.png"})), "alwayson_scripts.Tint.args.0.image"),
    (small(alwayson_scripts=tint({"image": {"image": "x.png", "mask": png()}})), "alwayson_scripts.Tint.args.0.image.image"),
    (small(alwayson_scripts=tint({"image": png(), "mask": "/etc/shadow"})), "alwayson_scripts.Tint.args.0.mask"),
    (small(alwayson_scripts=tint({"input_image": "http://169.254.169.254/latest/meta-data"})),
     "alwayson_scripts.Tint.args.0.input_image"),
    (small(alwayson_scripts=tint({"batch_images": "/home"})), "alwayson_scripts.Tint.args.0.batch_images"),
    (small(alwayson_scripts=tint({"output_dir": "/tmp/x"})), "alwayson_scripts.Tint.args.0.output_dir"),
    (small(alwayson_scripts=tint({"ipadapter_input": "gASV"})), "alwayson_scripts.Tint.args.0.ipadapter_input"),
    # a positional argument: a URL is what webui's decoder downloads
    (small(alwayson_scripts=tint("https://example.com/a.png", 0.5)), "alwayson_scripts.Tint.args.0"),
    (small(script_name="Prompt matrix", script_args=[False, False, "http://127.0.0.1:7860/x"]), "script_args.2"),
]


@pytest.mark.parametrize("payload, field", REFUSED, ids=[f for _, f in REFUSED])
def test_script_arguments_that_name_files_or_urls_are_refused(target, payload, field):
    target.refuses(payload, field)


@pytest.mark.parametrize("field", ["init_images.0", "mask"])
def test_a_url_as_an_init_image_or_mask_is_refused(target, field):
    url = "http://127.0.0.1:7860/queue/v1/health"
    images = [url] if field == "init_images.0" else [png()]
    payload = small(init_images=images, **({"mask": url} if field == "mask" else {}))
    target.refuses(payload, field, kind="img2img")
    r = target.post("/queue/v1/img2img", json=payload)
    assert any("URL" in e["msg"] for e in r.json()["detail"]), r.text


def test_base64_images_in_script_arguments_are_taken(target):
    if target.real:
        pytest.skip("the stand-in's Tint script takes the images; webui has no such script")
    task = target.submit(small(alwayson_scripts=tint({"image": png(), "mask": f"data:image/png;base64,{png()}",
                                                      "enabled": False}, 0.5)))
    assert target.wait(task)["status"] == "done"
