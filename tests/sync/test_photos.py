"""The pupil photo pipeline on a corpus made here: every EXIF orientation, CMYK, 16-bit,
palette with transparency, colour profiles, GPS metadata, bombs, broken and hostile files."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFilter

from sync.imaging import Rejected
from sync.photos import PhotoSettings, normalize_photo
from tests.helpers import ROOT, VITRINA

SMALL = PhotoSettings(width=150, height=200)
RED, GREEN, BLUE, WHITE = (220, 30, 30), (30, 200, 30), (30, 30, 220), (250, 250, 250)


def upright(size: tuple[int, int] = (300, 400)) -> Image.Image:
    """A portrait whose quadrants say which way is up: red top-left, green top-right,
    blue bottom-left, white bottom-right."""
    im = Image.new("RGB", size)
    draw = ImageDraw.Draw(im)
    w, h = size
    for colour, box in ((RED, (0, 0, w // 2, h // 2)), (GREEN, (w // 2, 0, w, h // 2)),
                        (BLUE, (0, h // 2, w // 2, h)), (WHITE, (w // 2, h // 2, w, h))):
        draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=colour)
    return im


def jpeg(im: Image.Image, **kw: Any) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", quality=95, **kw)
    return out.getvalue()


def png(im: Image.Image, **kw: Any) -> bytes:
    out = io.BytesIO()
    im.save(out, "PNG", **kw)
    return out.getvalue()


def corners(data: bytes) -> list[tuple[int, ...]]:
    im = Image.open(io.BytesIO(data))
    w, h = im.size
    return [im.getpixel((x, y)) for x, y in ((w // 4, h // 4), (3 * w // 4, h // 4),
                                             (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4))]


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


#: What a camera stores for each EXIF orientation, given the upright picture.
STORED = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
          4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
          6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
          8: Image.Transpose.ROTATE_270}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(orientation: int) -> None:
    op = STORED[orientation]
    stored = upright() if op is None else upright().transpose(op)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = normalize_photo(jpeg(stored, exif=exif.tobytes()), SMALL)
    assert (out.width, out.height) == (150, 200)
    got = corners(out.data)
    for seen, wanted in zip(got, (RED, GREEN, BLUE, WHITE), strict=True):
        assert close(seen, wanted), (orientation, got)



@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_chosen_frame_means_the_same_part_of_the_upright_picture_in_every_orientation(
        orientation: int) -> None:
    # The frame is the upright picture's top-right quarter (green); the pipeline crops in
    # the stored orientation, so each orientation's box mapping must land there too.
    op = STORED[orientation]
    stored = upright((600, 800)) if op is None else upright((600, 800)).transpose(op)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = normalize_photo(jpeg(stored, exif=exif.tobytes()), SMALL,
                          box=(0.55, 0.05, 0.95, 0.45))
    assert (out.width, out.height) == (150, 200)
    assert all(close(seen, GREEN) for seen in corners(out.data)), (orientation,
                                                                   corners(out.data))

def test_the_output_is_a_plain_baseline_jpeg_without_metadata() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[2] = (56.0, 50.0, 20.0)
    gps[4] = (60.0, 36.0, 10.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = jpeg(upright((1200, 1600)), exif=exif.tobytes(), icc_profile=icc,
               comment=b"Taken at school")
    result = normalize_photo(src)
    im = Image.open(io.BytesIO(result.data))
    assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (450, 600))
    assert not im.info.get("progressive") and not im.info.get("progression")
    assert "exif" not in im.info and "icc_profile" not in im.info
    assert "comment" not in im.info and len(im.getexif()) == 0
    assert b"PhoneMaker" not in result.data and b"Exif" not in result.data
    assert result.data[:2] == b"\xff\xd8" and len(result.sha256) == 64
    # Deterministic.
    assert normalize_photo(src).data == result.data


@pytest.mark.parametrize("make", [
    lambda: jpeg(upright().convert("CMYK")),
    lambda: png(Image.linear_gradient("L").resize((300, 400)).convert("I")
                .point(lambda v: v * 257).convert("I;16")),
    lambda: png(upright().convert("P", palette=Image.Palette.ADAPTIVE), transparency=0),
    lambda: png(upright().convert("RGBA")),
    lambda: png(upright().convert("LA")),
], ids=["cmyk", "16-bit", "palette-transparency", "rgba", "grey-alpha"])
def test_other_colour_modes_become_8_bit_srgb(make: Any) -> None:
    result = normalize_photo(make(), SMALL)
    im = Image.open(io.BytesIO(result.data))
    assert (im.mode, im.size) == ("RGB", (150, 200))
    lo, hi = im.convert("L").getextrema()
    assert hi - lo > 30        # still a picture, not a flat field


def test_a_transparent_palette_picture_is_on_white() -> None:
    im = Image.new("P", (300, 400), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    ImageDraw.Draw(im).rectangle((100, 100, 200, 300), fill=1)
    result = normalize_photo(png(im, transparency=0), SMALL)
    out = Image.open(io.BytesIO(result.data))
    assert close(out.getpixel((5, 5)), (255, 255, 255), 10)
    assert close(out.getpixel((75, 100)), (255, 0, 0), 40)


def test_a_wide_photo_is_cropped_around_the_centre_or_the_chosen_frame() -> None:
    wide = Image.new("RGB", (1600, 1200), (200, 200, 200))
    ImageDraw.Draw(wide).rectangle((0, 0, 399, 1199), fill=RED)   # the left quarter
    centred = Image.open(io.BytesIO(normalize_photo(jpeg(wide), SMALL).data))
    assert close(centred.getpixel((75, 100)), (200, 200, 200))    # red is cut away
    chosen = normalize_photo(jpeg(wide), SMALL, box=(0.0, 0.0, 0.2, 0.5))
    left = Image.open(io.BytesIO(chosen.data))
    assert close(left.getpixel((75, 100)), RED)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def _animated_gif() -> bytes:
    frames = [Image.new("P", (40, 40), i) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    return out.getvalue()


def _animated_webp() -> bytes:
    frames = [upright((120, 160)), upright((120, 160)).transpose(Image.Transpose.ROTATE_180)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    return out.getvalue()


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty"),
    (b"<!doctype html><html><script>alert(1)</script></html>", "not_an_image"),
    (_png_header_only(100_000, 100_000), "too_many_pixels"),
    (jpeg(upright((1200, 1600)))[:3000], "corrupt"),
    (_animated_gif(), "unsupported"),
    (_animated_webp(), "animated"),
    (jpeg(Image.new("RGB", (2000, 300), RED)), "aspect"),
    (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100, "corrupt"),
    (b"\x00\x00\x00\x18ftypavif" + b"\x00" * 100, "unsupported"),
    (b"\x00\x00\x00\x18ftypmsf1" + b"\x00" * 100, "animated"),
    (b"\xff\xd8\xff" + b"x" * (31 * 1024 * 1024), "too_large"),
])
def test_what_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(Rejected) as caught:
        normalize_photo(data)
    assert caught.value.code == code and str(caught.value)


def textured(size: tuple[int, int] = (600, 800)) -> Image.Image:
    """The upright quadrants with the grain of a real photo."""
    noise = Image.effect_noise(size, 40).convert("RGB")
    return Image.blend(upright(size), noise, 0.25)


def test_warnings_for_the_card_printer() -> None:
    assert normalize_photo(jpeg(textured())).warnings == ()
    dark = normalize_photo(jpeg(Image.new("RGB", (600, 800), (20, 20, 25)))).warnings
    assert "too_dark" in dark and "blurred" in dark
    bright = normalize_photo(jpeg(textured().point(lambda v: min(255, v + 200))))
    assert "too_bright" in bright.warnings
    soft = textured().filter(ImageFilter.GaussianBlur(12))
    assert "blurred" in normalize_photo(jpeg(soft)).warnings
    assert "low_resolution" in normalize_photo(jpeg(textured((150, 200)))).warnings


def test_the_normalize_command(tmp_path: Path) -> None:
    good = tmp_path / "ivanov.jpg"
    good.write_bytes(jpeg(textured()))
    html = tmp_path / "virus.jpg"
    html.write_bytes(b"<html><script>alert(1)</script></html>")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    out = tmp_path / "out"
    done = subprocess.run([VITRINA, "photos", "normalize", str(good), str(html), str(empty),
                           str(tmp_path / "missing.jpg"), "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [x["ok"] for x in lines] == [True, False, False, False]
    first = lines[0]
    assert (first["width"], first["height"]) == (450, 600) and len(first["sha256"]) == 64
    assert Path(first["output"]).read_bytes()[:2] == b"\xff\xd8"
    assert lines[1]["error"] == "The file is not a JPEG, PNG or WebP image."
    assert lines[2]["error"] == "The file is empty."
    assert lines[3]["error"] == "No such file."
    ok = subprocess.run([VITRINA, "photos", "normalize", str(good), "--out", str(out)],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.startswith("ok    ")
    usage = subprocess.run([VITRINA, "photos", "normalize", "--out", str(out)],
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2
    # Another card printer: a square 300×300 photo.
    square = subprocess.run([VITRINA, "photos", "normalize", str(good), "--out",
                             str(tmp_path / "sq"), "--size", "300x300", "--json"],
                            capture_output=True, text=True, timeout=60)
    assert square.returncode == 0, square.stderr
    assert (json.loads(square.stdout)["width"], json.loads(square.stdout)["height"]) == (
        300, 300)
    wrong = subprocess.run([VITRINA, "photos", "normalize", str(good), "--out", str(out),
                            "--size", "big"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "WIDTHxHEIGHT" in wrong.stderr


@pytest.mark.slow
def test_a_12_megapixel_photo_stays_under_100_mb(tmp_path: Path) -> None:
    big = tmp_path / "camera.jpg"
    noise = Image.effect_noise((4000, 3000), 30).convert("RGB")
    big.write_bytes(jpeg(Image.blend(upright((4000, 3000)), noise, 0.3)))
    # VmHWM: the peak resident size of this process's own address space (ru_maxrss would
    # carry over the forking parent's).
    code = ("import sys\n"
            "def hwm():\n"
            "    for line in open('/proc/self/status'):\n"
            "        if line.startswith('VmHWM:'):\n"
            "            return int(line.split()[1])\n"
            "from sync.photos import normalize_photo\n"
            "before = hwm()\n"
            "photo = normalize_photo(open(sys.argv[1], 'rb').read())\n"
            "print(before, hwm(), photo.width)\n")
    done = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    before_kb, peak_kb, width = (int(x) for x in done.stdout.split())
    assert width == 450
    assert peak_kb < 100 * 1024, f"peak {peak_kb // 1024} MB (at start {before_kb // 1024} MB)"


def _heic(im: Image.Image, **kw: Any) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    im.save(out, "HEIF", quality=90, **kw)
    return out.getvalue()


def test_a_phone_heic_photo_comes_out_upright_and_bare() -> None:
    # As a phone stores it: lying on its side, EXIF orientation 6, GPS and maker.
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (56.0, 50.0, 20.0)
    stored = upright((600, 800)).transpose(STORED[6])
    src = _heic(stored, exif=exif.tobytes())
    assert src[4:12] == b"ftypheic"
    result = normalize_photo(src)
    im = Image.open(io.BytesIO(result.data))
    assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (450, 600))
    assert "exif" not in im.info and b"PhoneMaker" not in result.data
    for seen, wanted in zip(corners(result.data), (RED, GREEN, BLUE, WHITE), strict=True):
        assert close(seen, wanted), corners(result.data)
    with pytest.raises(Rejected) as cut:
        normalize_photo(src[: len(src) // 2])
    assert cut.value.code == "corrupt"
