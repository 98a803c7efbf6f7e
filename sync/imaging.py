"""Safe image handling shared by display media and pupil photos.

Every file is sniffed by its bytes (never its name), measured before it is
decoded (decompression bombs), decoded fully once (truncated files), turned
upright, converted to plain sRGB and re-encoded with no metadata at all.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

#: Kinds of file recognised by their first bytes.
IMAGE_TYPES = ("jpeg", "png", "webp")
VIDEO_TYPES = ("mp4", "webm")
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp", "mp4": "mp4", "webm": "webm"}
MIME_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
              "mp4": "video/mp4", "webm": "video/webm"}
_MP4_BRANDS = (b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
               b"M4V ", b"dash", b"MSNV", b"3gp4", b"3gp5", b"qt  ")


class Rejected(Exception):  # noqa: N818 - a verdict, not a programming error
    """A file that is not accepted; code says why (for translation), message in English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def sniff(data: bytes) -> str | None:
    """The real type of data from its magic bytes, or None if it is none we accept."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
        return "mp4"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
        return "heic"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


@dataclass(frozen=True)
class Limits:
    """How big an accepted image may be, and how big the stored one is made."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_width: int = 3840
    max_height: int = 2160
    jpeg_quality: int = 88


@dataclass(frozen=True)
class Normalized:
    """A re-encoded image ready to store."""

    data: bytes
    kind: str
    width: int
    height: int


_SRGB = ImageCms.createProfile("sRGB")


def to_srgb(im: Image.Image) -> Image.Image:
    icc = im.info.get("icc_profile")
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            mode = "RGBA" if im.mode in ("RGBA", "LA", "PA") else "RGB"
            if im.mode not in ("RGB", "RGBA"):
                im = im.convert(mode)
            converted = ImageCms.profileToProfile(im, src, _SRGB, outputMode=mode)
            if converted is not None:
                im = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unreadable profile: keep the pixels as they are
    return im


def _heic_ready(data: bytes) -> None:
    """A phone's HEIC photo can be opened: one still image, and the pillow-heif plugin
    (registered with Pillow) is there. It turns the picture upright by the file's own
    transforms and sets the EXIF orientation to 1, so nothing is turned twice."""
    brand = data[8:12]
    if brand == b"avif":
        raise Rejected("unsupported", "AVIF pictures are not supported; use JPEG.")
    if brand == b"msf1":
        raise Rejected("animated", "Image sequences are not supported; use one photo.")
    try:
        import pillow_heif
    except ImportError:
        raise Rejected("unsupported", "HEIC photos are not supported here; set the phone "
                       "to save JPEG (“Most compatible”), or export the photo as "
                       "JPEG.") from None
    pillow_heif.register_heif_opener()


def open_checked(data: bytes, limits: Limits, draft: tuple[int, int] | None = None,
                 heic: bool = False) -> tuple[Image.Image, str]:
    """Open data as an image after checking its type, size and integrity (HEIC too when
    heic). A JPEG is decoded at the smallest DCT scale that still covers draft (default:
    the display size limit)."""
    if not data:
        raise Rejected("empty", "The file is empty.")
    if len(data) > limits.max_bytes:
        raise Rejected("too_large", f"The file is larger than {limits.max_bytes // 2**20} MB.")
    kind = sniff(data)
    if kind == "heic":
        if not heic:
            raise Rejected("unsupported", "HEIC/AVIF images are not supported; save as JPEG.")
        _heic_ready(data)
    elif kind == "gif":
        raise Rejected("unsupported", "GIF images are not supported; use PNG or JPEG.")
    elif kind not in IMAGE_TYPES:
        raise Rejected("not_an_image", "The file is not a JPEG, PNG or WebP image.")
    try:
        im = Image.open(io.BytesIO(data), formats=["HEIF" if kind == "heic" else str(kind).upper()])
        width, height = im.size
    except Image.DecompressionBombError:
        raise Rejected("too_many_pixels", "The image has too many pixels.") from None
    except (OSError, SyntaxError, ValueError):
        raise Rejected("corrupt", "The image cannot be read: it is damaged.") from None
    if width * height > limits.max_pixels or width <= 0 or height <= 0:
        raise Rejected("too_many_pixels",
                       f"The image is too large ({width}×{height} pixels).")
    if getattr(im, "is_animated", False):
        raise Rejected("animated", "Animated images are not supported.")
    if kind == "jpeg":
        im.draft("RGB", draft or (limits.max_width, limits.max_height))
    try:
        im.load()
    except (OSError, SyntaxError, ValueError, RuntimeError, Image.DecompressionBombError):
        raise Rejected("corrupt", "The image cannot be read: it is damaged or cut off.") from None
    return im, str(kind)


def normalize_for_display(data: bytes, limits: Limits | None = None) -> Normalized:
    """Validate an image and re-encode it upright, sRGB, scaled down, with no metadata."""
    limits = limits or Limits()
    im, kind = open_checked(data, limits)
    try:
        im = ImageOps.exif_transpose(im) or im
    except (OSError, ValueError, SyntaxError):
        pass  # broken EXIF: keep the orientation as stored
    im = to_srgb(im)
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and
                                                   "transparency" in im.info)
    im = im.convert("RGBA" if has_alpha else "RGB")
    if im.width > limits.max_width or im.height > limits.max_height:
        im.thumbnail((limits.max_width, limits.max_height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if has_alpha:
        im.save(out, format="PNG", optimize=True)
        kind_out = "png"
    else:
        im.save(out, format="JPEG", quality=limits.jpeg_quality, optimize=True,
                progressive=False)
        kind_out = "jpeg"
    return Normalized(out.getvalue(), kind_out, im.width, im.height)


def check_video(data: bytes, max_bytes: int) -> str:
    """Accept an MP4 or WebM by its bytes and size; returns its kind."""
    if not data:
        raise Rejected("empty", "The file is empty.")
    if len(data) > max_bytes:
        raise Rejected("too_large", f"The video is larger than {max_bytes // 2**20} MB.")
    kind = sniff(data)
    if kind not in VIDEO_TYPES:
        raise Rejected("not_a_video", "The file is not an MP4 or WebM video.")
    return kind
