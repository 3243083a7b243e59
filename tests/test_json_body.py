"""A body is JSON that can be stored and shown again, or refused saying where it is not."""

import pytest

from webui_taskqueue.records.errors import PayloadError
from webui_taskqueue.intake.json_body import MAX_DEPTH, MAX_ITEMS, parse, problems_of


def refusal(raw, content_type="application/json"):
    with pytest.raises(PayloadError) as caught:
        parse(raw, content_type)
    return caught.value


def test_plain_json_is_read_and_a_byte_order_mark_is_skipped():
    assert parse(b'{"a": [1, 2.5, "\\u00e9"]}') == {"a": [1, 2.5, "\u00e9"]}
    assert parse(b'\xef\xbb\xbf{"a": 1}', "application/json; charset=utf-8") == {"a": 1}
    assert parse(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}  # a pair is one character


@pytest.mark.parametrize("raw, loc", [
    (b'{"prompt": "\\ud800"}', ["body", "prompt"]),
    (b'{"a": {"b": ["x", "\\udc00"]}}', ["body", "a", "b", 1]),
    (b'{"a": {"\\ud800": 1}}', ["body", "a", "\\ud800"]),
    (b'{"prompt": "\xed\xa0\x80"}', ["body", "prompt"]),  # UTF-8 bytes of a surrogate
    (b'{"cfg_scale": NaN}', ["body", "cfg_scale"]),
    (b'{"x": [Infinity]}', ["body", "x", 0]),
    (b'{"eta": -1e999}', ["body", "eta"]),
])
def test_what_cannot_be_written_back_is_refused_where_it_is(raw, loc):
    error = refusal(raw)
    assert error.status_code == 422 and [e["loc"] for e in error.errors] == [loc]
    assert "\ud800" not in str(error.errors)  # the answer itself can be encoded


def test_every_problem_is_named():
    found = problems_of({"a": float("nan"), "b": "\udfff", "c": [1.0, float("inf")]})
    assert [e["loc"] for e in found] == [["body", "a"], ["body", "b"], ["body", "c", 1]]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 100000])
def test_nesting_past_the_limit_is_refused_without_recursion(depth):
    error = refusal(b"[" * depth + b"]" * depth)
    assert "deeper than" in error.errors[0]["msg"]


def test_nesting_at_the_limit_is_read():
    assert parse(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


@pytest.mark.parametrize("raw", [b"{", b'{"a": 1,}', b"\xff", b"1" * 5000, b"{'a': 1}"])
def test_what_is_not_json_is_refused(raw):
    assert "not valid JSON" in refusal(raw).errors[0]["msg"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "image/png", "json"])
def test_a_body_declared_as_something_else_is_refused_with_415(content_type):
    error = refusal(b"{}", content_type)
    assert error.status_code == 415 and error.errors[0]["loc"] == ["header", "content-type"]


@pytest.mark.parametrize("content_type", [None, "", "application/json", "APPLICATION/JSON", "application/merge-patch+json"])
def test_json_media_types_and_none_are_read(content_type):
    assert parse(b"{}", content_type) == {}


def test_an_array_or_object_past_the_item_limit_is_refused_naming_it():
    assert parse(b'{"styles": [' + b",".join([b"0"] * MAX_ITEMS) + b"]}")
    error = refusal(b'{"styles": [' + b",".join([b"0"] * (MAX_ITEMS + 1)) + b"]}")
    assert error.errors[0]["loc"] == ["body", "styles"] and str(MAX_ITEMS) in error.errors[0]["msg"]
    keys = b",".join(b'"k%d": 0' % i for i in range(MAX_ITEMS + 1))
    assert refusal(b'{"comments": {' + keys + b"}}").errors[0]["loc"] == ["body", "comments"]
