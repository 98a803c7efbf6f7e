"""`vitrina photos normalize SRC… --out DIR [--json]`: card-ready photos from any files.

One line per source; with --json each line is {"source", "ok": true, "output", "sha256",
"width", "height", "warnings"} or {"source", "ok": false, "error"}. Exit status 0 when every
source was accepted, 1 when any was refused, 2 on wrong usage. Batches use every core.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import click

from server.cli import main

#: Larger sources are refused unread (the pipeline's own limit is checked again).
MAX_SOURCE_BYTES = 30 * 1024 * 1024


def _one(source: str, settings: Any = None) -> dict[str, Any]:
    """Normalise one file (in a worker process); never raises."""
    from sync.imaging import Rejected
    from sync.photos import normalize_photo

    try:
        path = Path(source)
        if not path.is_file():
            return {"source": source, "ok": False, "error": "No such file."}
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return {"source": source, "ok": False,
                    "error": f"The file is larger than {MAX_SOURCE_BYTES // 2**20} MB."}
        photo = normalize_photo(path.read_bytes(), settings)
    except Rejected as exc:
        return {"source": source, "ok": False, "error": str(exc)}
    except MemoryError:
        return {"source": source, "ok": False, "error": "The picture is too large to open."}
    except Exception as exc:  # noqa: BLE001 - a file must never crash the batch
        return {"source": source, "ok": False,
                "error": f"The picture cannot be read ({exc.__class__.__name__})."}
    return {"source": source, "ok": True, "data": photo.data, "sha256": photo.sha256,
            "width": photo.width, "height": photo.height, "warnings": list(photo.warnings)}


def _output_name(out: Path, source: str, data: bytes, sha256: str) -> Path:
    """SOURCE's stem as a .jpg; another picture of the same name gets its hash added."""
    target = out / f"{Path(source).stem or 'photo'}.jpg"
    if target.exists() and target.read_bytes() != data:
        target = target.with_name(f"{target.stem}-{sha256[:8]}.jpg")
    return target


def _size(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, int]:
    width, sep, height = value.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() \
            or not 60 <= int(width) <= 4000 or not 60 <= int(height) <= 4000:
        raise click.BadParameter("write it as WIDTHxHEIGHT, e.g. 450x600 (60–4000 each)")
    return int(width), int(height)


@main.group("photos")
def photos_group() -> None:
    """Pupils' photos."""


@photos_group.command("normalize")
@click.argument("sources", nargs=-1, required=True)
@click.option("--out", "out", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Where the card-ready JPEGs are written.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.option("--size", default="450x600", show_default=True, callback=_size,
              help="The card photo's width x height in pixels (its shape is the crop's).")
@click.option("--quality", type=click.IntRange(30, 100), default=90, show_default=True,
              help="JPEG quality.")
def normalize(sources: tuple[str, ...], out: Path, as_json: bool, size: tuple[int, int],
              quality: int) -> None:
    """Make card-ready photos (3:4, upright, sRGB JPEG, no metadata) of SOURCES."""
    from sync.photos import PhotoSettings

    settings = PhotoSettings(width=size[0], height=size[1], quality=quality)
    out.mkdir(parents=True, exist_ok=True)
    workers = min(os.cpu_count() or 1, len(sources))
    if workers > 1 and len(sources) > 2:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(partial(_one, settings=settings), sources, chunksize=4))
    else:
        results = [_one(s, settings) for s in sources]
    failed = 0
    for result in results:
        if result["ok"]:
            data = result.pop("data")
            target = _output_name(out, result["source"], data, result["sha256"])
            target.write_bytes(data)
            result["output"] = str(target)
        else:
            failed += 1
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False))
        elif result["ok"]:
            warn = f" (warnings: {', '.join(result['warnings'])})" if result["warnings"] else ""
            click.echo(f"ok    {result['source']} → {result['output']} "
                       f"{result['width']}×{result['height']}{warn}")
        else:
            click.echo(f"error {result['source']}: {result['error']}")
    sys.exit(1 if failed else 0)
