"""The pupil photo pipeline: any accepted picture in, a card-ready JPEG out.

Checked by its bytes before it is decoded (type, byte and pixel limits, absurd shapes,
animation), decoded once at the smallest JPEG DCT scale that still covers the card
(a 12-megapixel photo is never decoded at full size for a 450×600 card), turned upright
by its EXIF orientation, made plain 8-bit sRGB (CMYK, 16-bit, palette, alpha and
embedded colour profiles), cropped to the card's aspect ratio around a chosen box or a
default centre, scaled with a Hamming filter (antialiased and sharp; a third of Lanczos's
cost) in the stored orientation so only the small card is turned, and written as a
baseline JPEG with no metadata at all (no EXIF, GPS, XMP, comments, thumbnails or
profile). Deterministic: the same bytes and settings give the same output. Warnings (low
resolution, too dark, too bright, very blurred) are for the card administrator; they
never refuse a photo.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field

from PIL import Image, ImageFilter, ImageStat

from sync.imaging import Limits, Rejected, open_checked, to_srgb

__all__ = ["CardPhoto", "PhotoSettings", "Rejected", "normalize_photo"]


@dataclass(frozen=True)
class PhotoSettings:
    """The card's photo format and what is accepted."""

    width: int = 450
    height: int = 600
    quality: int = 90
    #: The JPEG is re-encoded at lower quality (not below min_quality) to fit this.
    max_output_bytes: int = 200_000
    min_quality: int = 60
    max_bytes: int = 30 * 1024 * 1024
    max_pixels: int = 60_000_000
    #: A picture longer than this many times its width (or wider) is refused.
    max_aspect: float = 3.0
    #: The default centre of the crop, as fractions of the width and height (faces sit
    #: a little above the middle).
    centre: tuple[float, float] = (0.5, 0.42)
    #: Below this source size (of the cropped part) the photo is flagged as low resolution.
    min_source: tuple[int, int] = (300, 400)


@dataclass(frozen=True)
class CardPhoto:
    """A card-ready JPEG, its hash and size, and warnings for the card administrator."""

    data: bytes
    sha256: str
    width: int
    height: int
    warnings: tuple[str, ...] = field(default=())


Box = tuple[float, float, float, float]
#: Below this variance of the Laplacian (on the card at half size) a photo is "very blurred".
BLUR_VARIANCE = 8.0


def _crop_box(width: int, height: int, aspect: float, box: Box | None,
              centre: tuple[float, float]) -> tuple[int, int, int, int]:
    """The crop in pixels: the given box (fractions) made the card's shape, or the largest
    card-shaped area around centre, inside the picture."""
    if box is not None:
        x0, y0, x1, y1 = (min(max(v, 0.0), 1.0) for v in box)
        if x1 - x0 <= 0.01 or y1 - y0 <= 0.01:
            raise Rejected("bad_box", "The chosen frame is empty.")
        cx, cy = (x0 + x1) / 2 * width, (y0 + y1) / 2 * height
        h = (y1 - y0) * height
        w = h * aspect
        if w > (x1 - x0) * width:          # keep the frame inside what was chosen
            w = (x1 - x0) * width
            h = w / aspect
    else:
        cx, cy = centre[0] * width, centre[1] * height
        h = min(height, width / aspect)
        w = h * aspect
    w, h = min(w, width), min(h, height)
    left = min(max(cx - w / 2, 0), width - w)
    top = min(max(cy - h / 2, 0), height - h)
    return round(left), round(top), round(left + w), round(top + h)


#: How a picture stored with an EXIF orientation is turned upright.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError, TypeError):
        return 1    # broken EXIF: keep the orientation as stored
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def _stored_box(box: tuple[int, int, int, int], orientation: int, width: int, height: int
                ) -> tuple[int, int, int, int]:
    """A box on the upright picture as a box on the picture as stored (width × height)."""
    u0, v0, u1, v1 = box
    if orientation == 2:
        x0, y0, x1, y1 = width - u1, v0, width - u0, v1
    elif orientation == 3:
        x0, y0, x1, y1 = width - u1, height - v1, width - u0, height - v0
    elif orientation == 4:
        x0, y0, x1, y1 = u0, height - v1, u1, height - v0
    elif orientation == 5:
        x0, y0, x1, y1 = v0, u0, v1, u1
    elif orientation == 6:
        x0, y0, x1, y1 = v0, height - u1, v1, height - u0
    elif orientation == 7:
        x0, y0, x1, y1 = width - v1, height - u1, width - v0, height - u0
    elif orientation == 8:
        x0, y0, x1, y1 = width - v1, u0, width - v0, u1
    else:
        x0, y0, x1, y1 = u0, v0, u1, v1
    return x0, y0, x1, y1


def _eight_bit_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greys (and 32-bit integers) scaled to 8 bits, not clipped.
        top = im.getextrema()[1]
        peak = 65535 if im.mode != "I" or (isinstance(top, (int, float)) and top > 255) \
            else 255
        im = im.point(lambda v: v * 255 / peak if peak != 255 else v).convert("L")
    if im.mode == "F":
        im = im.convert("L")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    return im.convert("RGB") if im.mode != "RGB" else im


def _warnings(im: Image.Image, source: tuple[int, int], settings: PhotoSettings
              ) -> tuple[str, ...]:
    out = []
    if source[0] < settings.min_source[0] or source[1] < settings.min_source[1]:
        out.append("low_resolution")
    grey = im.convert("L")
    mean = ImageStat.Stat(grey).mean[0]
    if mean < 55:
        out.append("too_dark")
    elif mean > 215:
        out.append("too_bright")
    small = grey.reduce(2)
    edges = small.filter(ImageFilter.Kernel((3, 3), (0, 1, 0, 1, -4, 1, 0, 1, 0), 1, 128))
    inner = edges.crop((2, 2, edges.width - 2, edges.height - 2))   # the filter's border lies
    if ImageStat.Stat(inner).var[0] < BLUR_VARIANCE:
        out.append("blurred")
    return tuple(out)


def normalize_photo(data: bytes, settings: PhotoSettings | None = None,
                    box: Box | None = None) -> CardPhoto:
    """A card-ready JPEG of data, cropped to box (fractions of the upright picture: left,
    top, right, bottom) or around the default centre; Rejected with a reason otherwise."""
    settings = settings or PhotoSettings()
    if data[:6] in (b"GIF87a", b"GIF89a"):
        raise Rejected("unsupported", "GIF pictures are not taken; use a JPEG or PNG photo.")
    aspect = settings.width / settings.height
    # Decode only as much as the card needs: a frame a fifth of the picture needs more.
    part = 1.0 if box is None else max(min(box[2] - box[0], box[3] - box[1]), 0.05)
    need = round(max(settings.width, settings.height) / part)
    limits = Limits(max_bytes=settings.max_bytes, max_pixels=settings.max_pixels)
    im, _kind = open_checked(data, limits, draft=(need, need), heic=True)
    ratio = im.width / im.height
    if ratio > settings.max_aspect or ratio < 1 / settings.max_aspect:
        raise Rejected("aspect", f"The picture is {im.width}×{im.height}: too narrow or "
                       "too wide to be a portrait.")
    orientation = _orientation(im)
    im = _eight_bit_rgb(to_srgb(im))
    turned = orientation in (5, 6, 7, 8)
    upright = (im.height, im.width) if turned else (im.width, im.height)
    crop = _crop_box(*upright, aspect, box, settings.centre)
    source = (crop[2] - crop[0], crop[3] - crop[1])
    # Crop and scale in the stored orientation, then turn only the small card upright.
    size = (settings.height, settings.width) if turned else (settings.width, settings.height)
    card = im.resize(size, Image.Resampling.HAMMING,
                     box=_stored_box(crop, orientation, im.width, im.height))
    if orientation in _TRANSPOSE:
        card = card.transpose(_TRANSPOSE[orientation])
    warnings = _warnings(card, source, settings)
    quality = settings.quality
    while True:
        out = io.BytesIO()
        # No exif=, icc_profile= or comment=: nothing but the picture is written.
        card.save(out, format="JPEG", quality=quality, optimize=True, progressive=False,
                  subsampling="4:2:0")
        encoded = out.getvalue()
        if len(encoded) <= settings.max_output_bytes or quality <= settings.min_quality:
            break
        quality -= 5
    return CardPhoto(encoded, hashlib.sha256(encoded).hexdigest(), card.width, card.height,
                     warnings)
