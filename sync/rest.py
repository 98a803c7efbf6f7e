"""A REST source for registers and card systems that have an API, and the push of a
run's export to a card system that takes it over HTTP.

`fetch_all` pages through a JSON API (pages as `{"items": [...], "next": URL}`, a bare
list, or a `Link: <…>; rel="next"` header), with a timeout on every request, bounded
retries with backoff on connection errors and 5xx answers, and an auth header. The
records become one JSON document (a list of objects) that the readers take like a file:
its keys are matched as column names are (`id`, `surname`, `фамилия`, …).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import requests

#: Tries per page (the first and the retries), and the pause before each retry.
TRIES = 4
#: What a JSON list of records (or a page object) starts with.
_JSON_START = re.compile(rb"\s*[\[{]")
BACKOFF = (0.5, 1.0, 2.0)
TIMEOUT = 30.0
#: A source that keeps sending pages past this many is refused (a loop, or the wrong URL).
MAX_PAGES = 10_000
MAX_RECORDS = 500_000


class SourceError(Exception):
    """The source could not be read: says which URL and why."""


def _next_link(response: requests.Response) -> str | None:
    link = response.links.get("next", {}).get("url")
    return urljoin(response.url, link) if link else None


def _get(session: requests.Session, url: str, headers: dict[str, str], timeout: float,
         sleep: Callable[[float], None]) -> requests.Response:
    last = ""
    for attempt in range(TRIES):
        if attempt:
            sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)])
        try:
            r = session.get(url, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            last = f"{exc.__class__.__name__}"
            continue
        if r.status_code >= 500 or r.status_code == 429:
            last = f"the server answered {r.status_code}"
            continue
        if r.status_code in (401, 403):
            raise SourceError(f"{url}: the server refused the credentials ({r.status_code})")
        if r.status_code != 200:
            raise SourceError(f"{url}: the server answered {r.status_code}")
        return r
    raise SourceError(f"{url}: no answer after {TRIES} tries ({last})")


def fetch_all(url: str, auth_header: str = "", timeout: float = TIMEOUT,
              session: requests.Session | None = None,
              sleep: Callable[[float], None] = time.sleep) -> bytes:
    """Every record of the source as a JSON list (UTF-8 bytes)."""
    headers = {"Accept": "application/json", **_auth(auth_header, SourceError)}
    http = session or requests.Session()
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    page: str | None = url
    pages = 0
    while page:
        if page in seen:
            raise SourceError(f"{page}: the pages go round in a circle")
        seen.add(page)
        pages += 1
        if pages > MAX_PAGES:
            raise SourceError(f"{url}: more than {MAX_PAGES} pages")
        r = _get(http, page, headers, timeout, sleep)
        try:
            body = r.json()
        except ValueError:
            raise SourceError(f"{page}: the answer is not JSON") from None
        if isinstance(body, list):
            items, following = body, _next_link(r)
        elif isinstance(body, dict) and isinstance(body.get("items"), list):
            items = body["items"]
            following = body.get("next") or _next_link(r)
            if following:
                following = urljoin(page, str(following))
        else:
            raise SourceError(f"{page}: expected a list, or an object with “items”")
        if not all(isinstance(i, dict) for i in items):
            raise SourceError(f"{page}: every item must be an object")
        records.extend(items)
        if len(records) > MAX_RECORDS:
            raise SourceError(f"{url}: more than {MAX_RECORDS} records")
        page = following
    return json.dumps(records, ensure_ascii=False).encode("utf-8")


def records_as_csv(data: bytes, file: str) -> bytes | None:
    """A JSON list of records as CSV text the readers take (None if data is not one)."""
    if not _JSON_START.match(data):
        return None
    try:
        records = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(records, dict) and isinstance(records.get("items"), list):
        records = records["items"]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return None
    import csv
    import io

    header: list[str] = []
    for r in records:
        for key in r:
            if key not in header:
                header.append(str(key))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    for r in records:
        writer.writerow(["" if r.get(k) is None else str(r.get(k)) for k in header])
    return out.getvalue().encode("utf-8")


class PushError(Exception):
    """The export could not be delivered: says where and why."""


def _auth(auth_header: str, error: type[Exception]) -> dict[str, str]:
    if not auth_header:
        return {}
    name, sep, value = auth_header.partition(":")
    if not sep or not name.strip() or not value.strip():
        raise error("the auth header must look like “Authorization: Bearer …”")
    return {name.strip(): value.strip()}


def push_export(url: str, changes_csv: bytes, photos_zip: bytes, key: str,
                auth_header: str = "", timeout: float = 15.0,
                session: requests.Session | None = None,
                sleep: Callable[[float], None] = time.sleep) -> int:
    """POST a run's export to the card system as multipart/form-data (`changes`:
    changes.csv, `photos`: photos.zip) with `Idempotency-Key: key`, so a retried push
    is recognised as the same one; retries connection errors, 429 and 5xx with backoff.
    Returns the HTTP status (2xx); PushError otherwise."""
    headers = {"Idempotency-Key": key, "Accept": "application/json, text/plain, */*",
               **_auth(auth_header, PushError)}
    http = session or requests.Session()
    last = ""
    for attempt in range(TRIES):
        if attempt:
            sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)])
        files = {"changes": ("changes.csv", changes_csv, "text/csv; charset=utf-8"),
                 "photos": ("photos.zip", photos_zip, "application/zip")}
        try:
            r = http.post(url, files=files, headers=headers, timeout=timeout,
                          allow_redirects=False)
        except requests.RequestException as exc:
            last = exc.__class__.__name__
            continue
        if r.status_code >= 500 or r.status_code == 429:
            last = f"the card system answered {r.status_code}"
            continue
        if r.status_code in (401, 403):
            raise PushError(f"{url}: the card system refused the credentials "
                            f"({r.status_code})")
        if not 200 <= r.status_code < 300:
            raise PushError(f"{url}: the card system answered {r.status_code}: "
                            f"{r.text[:200]}")
        return r.status_code
    raise PushError(f"{url}: no answer after {TRIES} tries ({last})")
