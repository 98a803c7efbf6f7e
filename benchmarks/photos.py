"""The pupil photo pipeline on 12-megapixel camera-like JPEGs, measured in one run.

The baseline is the naive path with Pillow: open → exif_transpose → ImageOps.fit to
450×600 → save as JPEG. The pipeline (sync.photos.normalize_photo) decodes at the
smallest DCT scale that covers the card, and a batch uses every core. Prints photos/s
for each, per core and for the batch, and the ratio. Targets (issue 8): ≥ 4× the naive
path and ≥ 30 photos/s per core.
"""

from __future__ import annotations

import io
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
COUNT = int(os.environ.get("BENCH_PHOTOS", "24"))


def camera_like(seed: int) -> bytes:
    """A 4000×3000 JPEG with shapes and sensor-like grain, 1–4 MB, EXIF orientation 6."""
    rng = random.Random(seed)
    im = Image.new("RGB", (4000, 3000), (rng.randrange(90, 160),) * 3)
    draw = ImageDraw.Draw(im)
    for _ in range(60):
        x, y = rng.randrange(4000), rng.randrange(3000)
        r = rng.randrange(50, 600)
        draw.ellipse((x - r, y - r, x + r, y + r),
                     fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    grain = Image.effect_noise((4000, 3000), 18).convert("RGB")
    im = Image.blend(im, grain, 0.18)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def naive(data: bytes) -> bytes:
    im = Image.open(io.BytesIO(data))
    im = ImageOps.exif_transpose(im)
    im = ImageOps.fit(im.convert("RGB"), (450, 600), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def pipeline(data: bytes) -> bytes:
    from sync.photos import normalize_photo

    return normalize_photo(data).data


def rate(fn, photos: list[bytes]) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    for p in photos:
        fn(p)
    return len(photos) / (time.perf_counter() - t0)


def main() -> None:
    print(f"making {COUNT} camera-like 12-megapixel JPEGs …", flush=True)
    photos = [camera_like(n) for n in range(COUNT)]
    sizes = [len(p) / 2**20 for p in photos]
    pipeline(photos[0])      # warm up imports
    naive_rate = rate(naive, photos)
    one_core = rate(pipeline, photos)
    cores = os.cpu_count() or 1
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=cores) as pool:
        list(pool.map(pipeline, photos, chunksize=2))
    batch = len(photos) / (time.perf_counter() - t0)
    print()
    print(f"{COUNT} JPEGs of 4000×3000, {min(sizes):.1f}–{max(sizes):.1f} MB each")
    print(f"  naive Pillow (baseline)    {naive_rate:6.1f} photos/s on one core")
    print(f"  pipeline                   {one_core:6.1f} photos/s on one core   "
          f"ratio {one_core / naive_rate:4.1f}×   targets ≥ 4×, ≥ 30/s")
    print(f"  pipeline, batch            {batch:6.1f} photos/s on {cores} cores")


if __name__ == "__main__":
    main()
