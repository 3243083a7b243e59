"""Hostile input that a fuzzer does not think of: broken encodings, text that cannot
be written back out, deep nesting, oversized bodies, lying image headers, odd ids.

Each is refused with a 4xx naming the field and the reason, before anything is
queued, and the answer is one the OpenAPI document gives for the route. Nothing
refused leaves a trace: the listings and the queue view still answer."""

import base64
import io
import os
import struct
import time
import zlib

import pytest
from PIL import Image

from .documented import Document
from .held import paused  # noqa: F401 (a fixture)

Q = "/queue/v1"
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def doc(target):
    return Document(target.get("/openapi.json").json())


def ok(**kw):
    return {"prompt": "x", "steps": 2, "width": 64, "height": 64, **kw}


def count_tasks(target):
    return target.get(f"{Q}/tasks", params={"limit": 1}).json()["count"]


def refused(target, doc, method, path, status=422, field=None, says="", **kw):
    """Send it; it must be refused with `status`, documented, naming `field` (a loc
    after its first part, e.g. ("init_images", 0)) with `says` in the reason; and
    nothing may be queued."""
    before = count_tasks(target)
    r = doc.check(target.http.request(method, path, **kw))
    assert r.status_code == status, r.text[:500]
    detail = r.json()["detail"]
    if field is not None:
        assert any(tuple(e["loc"][1:]) == tuple(field) and says in e["msg"] for e in detail), detail
    assert count_tasks(target) == before
    return detail


def raw(text):
    """A JSON body exactly as written (json= would escape or refuse what we send)."""
    return {"content": text.encode() if isinstance(text, str) else text, "headers": JSON}


def png(size=(16, 16)):
    """Noise, so that the pixel data is most of the file."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, format="PNG")
    return out.getvalue()


def b64(data):
    return base64.b64encode(data).decode()


def png_header_only(width, height):
    """A PNG whose header declares width x height, with one tiny, wrong data chunk."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


# ---- text that cannot be stored or shown --------------------------------------------

@pytest.mark.parametrize("body, field", [
    ('{"prompt": "\\ud800"}', ("prompt",)),
    ('{"prompt": "a\\udfffb", "negative_prompt": "ok"}', ("prompt",)),
    ('{"styles": ["fine", "\\udbff"]}', ("styles", 1)),
    ('{"override_settings": {"CLIP_stop_at_last_layers": "\\ud800"}}', ("override_settings", "CLIP_stop_at_last_layers")),
    ('{"comments": {"a": {"b": ["\\ud800"]}}}', ("comments", "a", "b", 0)),
    ('{"override_settings": {"\\ud800": 1}}', ("override_settings", "\\ud800")),
], ids=["prompt", "inside", "list-item", "setting-value", "nested", "key"])
def test_lone_surrogate_is_refused_naming_where_it_is(target, doc, body, field):
    refused(target, doc, "POST", f"{Q}/txt2img", field=field, says="surrogate", **raw(body))
    for path in (f"{Q}/tasks", f"{Q}/queue"):  # and nothing poisons the listings
        assert target.get(path).status_code == 200


def test_surrogate_pair_is_a_character_and_is_kept(target, paused):
    task_id = paused.submit(ok(prompt="\U0001F600 smile"))  # as UTF-8
    assert target.task(task_id)["params"]["prompt"] == "\U0001F600 smile"
    r = target.post(f"{Q}/txt2img", **raw('{"prompt": "\\ud83d\\ude00", "steps": 2, "width": 64, "height": 64}'))
    assert r.status_code == 202, r.text
    paused.track(r.json()["task_id"])
    assert target.task(r.json()["task_id"])["params"]["prompt"] == "\U0001F600"


@pytest.mark.parametrize("literal, field", [
    ("NaN", "cfg_scale"), ("Infinity", "denoising_strength"), ("-Infinity", "subseed_strength"),
    ("1e999", "eta"), ("-1e999", "s_noise"),
])
def test_number_that_is_not_finite_is_refused_naming_the_field(target, doc, literal, field):
    body = f'{{"prompt": "x", "steps": 2, "width": 64, "height": 64, "{field}": {literal}}}'
    refused(target, doc, "POST", f"{Q}/txt2img", field=(field,), says="finite", **raw(body))


def test_integer_with_thousands_of_digits_is_refused(target, doc):
    refused(target, doc, "POST", f"{Q}/txt2img", **raw('{"seed": ' + "9" * 5000 + "}"))


# ---- encodings and media types -------------------------------------------------------

@pytest.mark.parametrize("content, says", [
    (b'{"prompt": "\xff\xfe"}', "not valid JSON"),
    (b"\xc3", "not valid JSON"),
    (b'{"prompt": "\xed\xa0\x80"}', "surrogate"),  # Python's json decodes these bytes (surrogatepass)
], ids=["bad-bytes", "cut-sequence", "utf8-encoded-surrogate"])
def test_body_that_is_not_utf8_is_refused(target, doc, content, says):
    detail = refused(target, doc, "POST", f"{Q}/txt2img", content=content, headers=JSON)
    assert says in detail[0]["msg"]


def test_body_with_a_byte_order_mark_is_read(target, paused):
    r = target.post(f"{Q}/txt2img", content=b'\xef\xbb\xbf{"prompt": "bom", "steps": 2, "width": 64, "height": 64}',
                    headers=JSON)
    assert r.status_code == 202, r.text
    paused.track(r.json()["task_id"])
    assert target.task(r.json()["task_id"])["params"]["prompt"] == "bom"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          "application/xml"])
def test_body_not_sent_as_json_is_refused_with_415(target, doc, content_type):
    detail = refused(target, doc, "POST", f"{Q}/txt2img", status=415, content=b'{"prompt": "x"}',
                     headers={"content-type": content_type})
    assert detail[0]["loc"] == ["header", "content-type"] and "application/json" in detail[0]["msg"]


@pytest.mark.parametrize("content", [b"", b"null", b"[]", b'"a string"', b"42"])
def test_body_that_is_not_an_object_is_refused(target, doc, content):
    refused(target, doc, "POST", f"{Q}/txt2img", content=content, headers=JSON)


# ---- nesting and size -----------------------------------------------------------------

@pytest.mark.parametrize("depth", [40, 5000, 200000])
def test_deep_nesting_is_refused(target, doc, depth):
    body = '{"comments": ' + "[" * depth + "]" * depth + "}"
    detail = refused(target, doc, "POST", f"{Q}/txt2img", **raw(body))
    assert "deeper than" in detail[0]["msg"]


def test_deep_nesting_is_refused_on_every_route_with_a_body(target, doc, paused):
    task_id = paused.submit(ok())
    deep = raw("[" * 100000 + "]" * 100000)
    for method, path in (("POST", f"{Q}/tasks/{task_id}/move"), ("PATCH", f"{Q}/tasks/{task_id}"),
                         ("POST", f"{Q}/users"), ("PATCH", f"{Q}/users/nobody-at-all")):
        r = doc.check(target.http.request(method, path, **deep))
        assert r.status_code == 422 and "deeper than" in r.json()["detail"][0]["msg"], (path, r.text[:300])


@pytest.mark.parametrize("method, path", [("POST", "/tasks/x/move"), ("PATCH", "/tasks/x"), ("POST", "/users")])
def test_small_body_over_its_limit_is_refused_with_413(target, doc, method, path):
    big = b'{"before": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    r = doc.check(target.http.request(method, Q + path, content=big, headers=JSON))
    assert r.status_code == 413 and "over the limit of 1 MB" in r.json()["detail"][0]["msg"], r.text[:300]


# ---- images that lie -------------------------------------------------------------------

def img2img(image, **kw):
    return ok(init_images=[image], **kw)


def test_image_declaring_a_huge_size_is_refused_before_it_is_decoded(target, doc):
    out = io.BytesIO()
    Image.new("L", (12000, 12000)).save(out, format="PNG", optimize=True)  # 140 KB; 144 MP once decoded
    assert len(out.getvalue()) < 200_000
    started = time.monotonic()
    refused(target, doc, "POST", f"{Q}/img2img", field=("init_images", 0), says="declares 12000x12000",
            json=img2img(b64(out.getvalue())))
    assert time.monotonic() - started < 5  # decoding it would take longer, and 144 MB


@pytest.mark.parametrize("width, height", [(100000, 16), (16, 100000), (65535, 65535)])
def test_header_alone_is_enough_to_refuse_a_huge_image(target, doc, width, height):
    refused(target, doc, "POST", f"{Q}/img2img", field=("init_images", 0), says="declares",
            json=img2img(b64(png_header_only(width, height))))


def test_huge_mask_is_refused_naming_the_mask(target, doc):
    refused(target, doc, "POST", f"{Q}/img2img", field=("mask",), says="declares",
            json=img2img(b64(png()), mask=b64(png_header_only(40000, 40000))))


@pytest.mark.parametrize("data, says", [
    (png()[:len(png()) // 2], "decodable"),  # the header, then the file ends
    (png_header_only(16, 16), "decodable"),  # a true header over data that does not decode
    (b"\x89PNX" + png()[4:], "decodable"),  # wrong magic
    (b"\xff\xd8\xff" + png()[3:], "decodable"),  # one format's magic over another's data
    (b"", "decodable"),
], ids=["truncated", "bad-data", "wrong-magic", "mixed", "empty"])
def test_image_that_does_not_decode_is_refused(target, doc, data, says):
    refused(target, doc, "POST", f"{Q}/img2img", field=("init_images", 0), says=says, json=img2img(b64(data)))


def test_image_in_a_format_not_taken_is_refused(target, doc):
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, format="TIFF")
    refused(target, doc, "POST", f"{Q}/img2img", field=("init_images", 0), says="PNG", json=img2img(b64(out.getvalue())))


def test_more_init_images_than_the_batch_is_refused(target, doc):
    image = b64(png())
    refused(target, doc, "POST", f"{Q}/img2img", field=("init_images",), says="batch_size",
            json=ok(init_images=[image] * 3, batch_size=2))


# ---- ids in the path --------------------------------------------------------------------

@pytest.mark.parametrize("task_id", ["...", "%2e%2e", "..%5c..%5cwindows", "a" * 8000, "%00", "null",
                                     "0" * 32, "-1", "%F0%9F%98%80", "%ED%A0%80"])
@pytest.mark.parametrize("suffix", ["", "/preview", "/images/0", "/images/0/thumb", "/inputs/0"])
def test_odd_task_id_is_not_found(target, doc, task_id, suffix):
    r = doc.check(target.get(f"{Q}/tasks/{task_id}{suffix}"))
    assert r.status_code == 404, r.text[:300]


@pytest.mark.parametrize("path", ["/tasks/..%2F..%2Fetc%2Fpasswd", "/tasks/x/images/..%2F..%2F..%2Fetc%2Fpasswd",
                                  "/tasks/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/users/..%2Fadmin"])
def test_traversal_in_a_path_reaches_no_file(target, path):
    r = target.get(Q + path)
    assert r.status_code == 404 and b"root:" not in r.content, r.text[:300]


@pytest.mark.parametrize("index, status", [("99999999999999999999999999", 404), ("-1", 404), ("1e3", 422),
                                           ("0x0", 422), ("%20", 422)])
def test_odd_image_index_is_refused(target, doc, paused, index, status):
    task_id = paused.submit(ok())
    r = doc.check(target.get(f"{Q}/tasks/{task_id}/images/{index}"))
    assert r.status_code == status, r.text[:300]


def test_a_query_parameter_given_twice_is_refused_naming_it(target):
    r = target.get("/queue/v1/tasks", params=[("status", "done"), ("status", "queued"), ("limit", "5")])
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "status"]


@pytest.mark.parametrize("name", ["status", "user"])
def test_an_empty_query_value_is_refused_naming_it(target, name):
    r = target.get("/queue/v1/tasks", params={name: ""})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", name]
