"""Input images are refused by the size their header declares, before decoding."""

import base64
import io
import os
import struct
import zlib

import pytest
from PIL import Image

from webui_taskqueue.intake import images as images_in


def b64(data):
    return base64.b64encode(data).decode()


def encoded(image, fmt="PNG"):
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def header_only(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP"])
def test_an_image_within_the_limits_passes(fmt):
    assert images_in.problem(b64(encoded(Image.new("RGB", (64, 48)), fmt)), 2048, 2048) is None


def test_a_data_url_passes():
    assert images_in.problem("data:image/png;base64," + b64(encoded(Image.new("RGB", (8, 8)))), 64, 64) is None


@pytest.mark.parametrize("size, limits", [((257, 16), (64, 64)), ((16, 257), (64, 64)), ((200, 200), (64, 64)),
                                          ((12000, 12000), (2048, 2048))])
def test_a_declared_size_beyond_the_limits_is_refused_before_decoding(monkeypatch, size, limits):
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded"))  # never reached
    problem = images_in.problem(b64(header_only(*size)), *limits)
    assert problem.startswith(f"declares {size[0]}x{size[1]} pixels")


def test_the_size_limit_is_four_times_the_largest_output():
    assert images_in.max_pixels(2048, 2048) == 4 * 2048 * 2048
    assert images_in.problem(b64(encoded(Image.new("L", (256, 64)))), 64, 64) is None  # 4 x 64 wide, 16384 px
    assert images_in.problem(b64(encoded(Image.new("L", (128, 136)))), 64, 64).startswith("declares")


def test_a_size_pillow_calls_a_bomb_is_refused_saying_so():
    assert "more pixels than Pillow" in images_in.problem(b64(header_only(65535, 65535)), 10**6, 10**6)


@pytest.mark.parametrize("data, says", [
    ("%%%", "base64"),
    (b64(b"plain text"), "decodable"),
    (b64(header_only(16, 16)), "decodable"),  # true header, data that does not decode
    (b64(encoded(Image.frombytes("RGB", (32, 32), os.urandom(3072)))[:300]), "decodable"),  # cut short
    (b64(encoded(Image.new("RGB", (8, 8)), "TIFF")), "PNG, JPEG"),  # a format not taken
])
def test_what_does_not_decode_is_refused_saying_why(data, says):
    assert says in images_in.problem(data, 2048, 2048)


def test_decode_input_gives_the_bytes_as_sent_and_their_type():
    raw = encoded(Image.new("RGB", (8, 8)), "JPEG")
    assert images_in.decode_input(b64(raw)) == (raw, "image/jpeg")
