"""Displays: the registry, pairing, device tokens, the change counter and manifests.

A poll that finds nothing changed costs one read of the change counter: the
manifest of each display is kept in the process, with the counter value it was
built at and the moment it stops being right by itself (its next_change_at).
Every change to content, timetable, displays or the tree bumps the counter in
the same transaction (see `install_change_counter`), so every worker of every
app node sees it on its next read.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

import segno
from flask import Flask, current_app
from flask_babel import gettext as _
from PIL import Image
from sqlalchemy import Engine, event, func, insert, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from content.manifest import (
    DisplayInfo,
    ItemContent,
    MediaRef,
    build_manifest,
    canonical_json,
    manifest_etag,
)
from content.timetable import period_windows, screen_slice
from server.errors import FieldError, Forbidden, Invalid, NotFound, TooManyAttempts
from server.models import timetable as tt_models
from server.models.base import utcnow
from server.models.content import ContentItem, ContentTarget, PollOption
from server.models.displays import (
    Display,
    DisplayScreenshot,
    PairingAttempt,
    PairingRequest,
    ScreenVersion,
)
from server.models.orgs import Organisation
from server.rights import DISPLAY_MANAGE, DISPLAY_VIEW, can, scope_paths
from server.services import audit
from server.services import content as content_service
from server.services import timetable as tts
from server.services.context import Ctx

#: Letters and digits that cannot be mistaken for each other across a corridor.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY347"
CODE_LENGTH = 6
CODE_LIFETIME = timedelta(minutes=15)
#: New codes one network address may ask for per hour (a school behind one address
#: may set up a few dozen screens in a morning).
CODES_PER_ADDRESS_PER_HOUR = 60
#: Wrong codes one person may type in ten minutes.
WRONG_CODES_PER_TEN_MINUTES = 10
TOKEN_PREFIX = "dev_"
MEDIA_EXT = {"jpeg": "jpg", "png": "png", "webp": "webp", "mp4": "mp4", "webm": "webm"}
#: Fields a display reports about itself; changing them changes no screen.
REPORT_FIELDS = frozenset({"last_seen_at", "last_etag", "client_version", "uptime",
                           "free_disk", "cache_size", "last_error", "dark", "action",
                           "action_id", "action_at"})
WATCHED = (ContentItem, ContentTarget, PollOption, Display, Organisation,
           tt_models.LessonRow, tt_models.ChangeRow, tt_models.BellScheduleRow,
           tt_models.BellPeriod, tt_models.CalendarEntry, tt_models.SchoolEvent,
           tt_models.RoomRow, tt_models.SchoolGroup, tt_models.Subject, tt_models.Teacher,
           tt_models.TimetableSettings)


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


# --- the change counter -------------------------------------------------------------------

def _changes_screens(obj: Any) -> bool:
    if not isinstance(obj, WATCHED):
        return False
    if isinstance(obj, Display):
        state = inspect(obj)
        if state.pending:
            return True
        changed = {a.key for a in state.attrs if a.history.has_changes()}
        return bool(changed - REPORT_FIELDS)
    return True


def _before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    if session.info.get("screens_bumped"):
        return
    if any(_changes_screens(o) for o in chain(session.new, session.dirty, session.deleted)):
        bumped = session.execute(update(ScreenVersion).where(ScreenVersion.id == 1)
                                 .values(value=ScreenVersion.value + 1))
        if not bumped.rowcount:   # type: ignore[attr-defined]
            # The counter's row is missing (an emptied database): start it; if another
            # process just did, count on theirs.
            try:
                with session.begin_nested():
                    session.execute(insert(ScreenVersion).values(id=1, value=1))
            except IntegrityError:
                session.execute(update(ScreenVersion).where(ScreenVersion.id == 1)
                                .values(value=ScreenVersion.value + 1))
        session.info["screens_bumped"] = True


def _transaction_over(session: Session, *_: Any) -> None:
    session.info.pop("screens_bumped", None)


_INSTALLED = threading.Lock()


def install_change_counter(app: Flask) -> None:
    """Make every session bump the change counter when it changes what screens show."""
    with _INSTALLED:
        if not event.contains(Session, "before_flush", _before_flush):
            event.listen(Session, "before_flush", _before_flush)
            event.listen(Session, "after_commit", _transaction_over)
            event.listen(Session, "after_rollback", _transaction_over)
    app.extensions["vitrina.manifests"] = ManifestCache()


def current_version(session: Session) -> int:
    """The change counter now (one primary-key read)."""
    return int(session.scalar(select(ScreenVersion.value).where(ScreenVersion.id == 1)) or 0)


# --- health -------------------------------------------------------------------------------

#: A display that sent a heartbeat this recently is online; up to STALE_AFTER it is stale.
ONLINE_WITHIN = timedelta(minutes=2)
STALE_WITHIN = timedelta(minutes=15)


def health_of(last_seen: datetime | None, now: datetime) -> str:
    """"online", "stale", "offline" or "never", by the age of the last heartbeat."""
    if last_seen is None:
        return "never"
    age = now - last_seen
    if age <= ONLINE_WITHIN:
        return "online"
    if age <= STALE_WITHIN:
        return "stale"
    return "offline"


# --- pairing -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewCode:
    """What a new display shows (code) and keeps (claim)."""

    code: str
    claim: str
    expires_at: datetime


def request_code(ctx: Ctx) -> NewCode:
    """A fresh pairing code for a display that has no token (rate-limited per address)."""
    address = _digest("address", ctx.address or "unknown")
    recent = ctx.session.scalar(select(func.count()).select_from(PairingRequest).where(
        PairingRequest.address_hash == address,
        PairingRequest.created_at > utcnow() - timedelta(hours=1))) or 0
    if recent >= CODES_PER_ADDRESS_PER_HOUR:
        raise TooManyAttempts(_("Too many pairing codes from this network; try again later."),
                              3600)
    live = set(ctx.session.scalars(select(PairingRequest.code).where(
        PairingRequest.expires_at > utcnow(), PairingRequest.display_id.is_(None))))
    code = ""
    while not code or code in live:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    claim = secrets.token_urlsafe(32)
    expires = utcnow() + CODE_LIFETIME
    ctx.session.add(PairingRequest(code=code, claim_hash=_digest("claim", claim),
                                   address_hash=address, expires_at=expires))
    return NewCode(code, claim, expires)


@dataclass(frozen=True)
class PairState:
    """What the display learns when it asks about its claim."""

    status: str               # "waiting", "paired" or "expired"
    token: str | None = None
    display: Display | None = None


def pair_status(ctx: Ctx, claim: str) -> PairState:
    """Whether the code was entered; the first answer after pairing carries the token."""
    row = ctx.session.scalar(select(PairingRequest).where(
        PairingRequest.claim_hash == _digest("claim", claim)))
    if row is None or row.claimed_at is not None:
        return PairState("expired")
    if row.display_id is None:
        return PairState("expired" if row.expires_at <= utcnow() else "waiting")
    display = ctx.session.get(Display, row.display_id)
    if display is None or display.status == "revoked":
        return PairState("expired")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    display.token_hash = _digest("token", token)
    display.status = "active"
    display.paired_at = utcnow()
    row.claimed_at = utcnow()
    return PairState("paired", token, display)


def normalise_code(raw: str) -> str:
    """What the admin typed, as a code: upper case, no spaces or dashes."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def pair_display(ctx: Ctx, code: str, fields: dict[str, Any]) -> Display:
    """Place the display showing code (the admin's side); it fetches its token itself."""
    org = _org_for(ctx, int(fields["org_id"]))
    row = _code_request(ctx, code)
    display = Display(org_id=org.id, status="pending", **_display_fields(fields))
    ctx.session.add(display)
    ctx.session.flush()
    row.display_id = display.id
    ctx.session.add(PairingAttempt(user_id=ctx.actor_id, ok=True))
    audit.record(ctx, "display.pair", ("display", display.id), org,
                 f"Display “{display.name}” paired", name=display.name)
    return display


def _code_request(ctx: Ctx, code: str) -> PairingRequest:
    """The live pairing request showing code; a wrong code counts against the person."""
    since = utcnow() - timedelta(minutes=10)
    wrong = ctx.session.scalar(select(func.count()).select_from(PairingAttempt).where(
        PairingAttempt.user_id == ctx.actor_id, PairingAttempt.ok.is_(False),
        PairingAttempt.at > since)) or 0
    if wrong >= WRONG_CODES_PER_TEN_MINUTES:
        raise TooManyAttempts(_("Too many wrong codes; wait ten minutes."), 600)
    row = ctx.session.scalar(select(PairingRequest).where(
        PairingRequest.code == normalise_code(code), PairingRequest.display_id.is_(None),
        PairingRequest.expires_at > utcnow()))
    if row is None:
        # Recorded in its own transaction: a wrong guess must count even though this fails.
        _record_attempt(ctx, ok=False)
        raise Invalid(_("No screen is showing this code (codes last 15 minutes)."), "code")
    return row


def pair_again(ctx: Ctx, display: Display, code: str) -> Display:
    """Give a display without a token (unpaired or revoked) to the screen showing code,
    keeping its place and settings (a replaced kiosk PC, a screen asked to pair again)."""
    if display.status == "active":
        raise Invalid(_("This display is paired; revoke it or ask it to pair again first."),
                      "code")
    row = _code_request(ctx, code)
    row.display_id = display.id
    display.status = "pending"
    display.revoked_at = None
    ctx.session.add(PairingAttempt(user_id=ctx.actor_id, ok=True))
    audit.record(ctx, "display.pair", ("display", display.id), display.org,
                 f"Display “{display.name}” paired", name=display.name, again=True)
    return display


def unpair(ctx: Ctx, display: Display) -> None:
    """Take the token away but keep the display: its screen shows a new code at once, and
    pairing that code to this display brings it back with its settings."""
    if display.status != "active":
        raise Invalid(_("Only a paired display can be asked to pair again."), "action")
    display.status = "pending"
    display.token_hash = None
    display.action = None
    audit.record(ctx, "display.unpair", ("display", display.id), display.org,
                 f"Display “{display.name}” asked to pair again", name=display.name)


#: What a screen can be asked to do on its next heartbeat.
QUEUED_ACTIONS = ("reload", "clear_cache")


def request_action(ctx: Ctx, display: Display, kind: str) -> None:
    """Ask a display to reload, clear its cache (on its next heartbeat) or pair again (now)."""
    if kind == "repair":
        unpair(ctx, display)
        return
    if kind not in QUEUED_ACTIONS:
        raise Invalid(_("Unknown action."), "action")
    if display.status != "active":
        raise Invalid(_("Only a paired display can be asked to do something."), "action")
    display.action = kind
    display.action_id = (display.action_id or 0) + 1
    display.action_at = utcnow()
    audit.record(ctx, "display.action", ("display", display.id), display.org,
                 f"Display “{display.name}” asked to {kind}", name=display.name, what=kind)


def _record_attempt(ctx: Ctx, ok: bool) -> None:
    bind = ctx.session.get_bind()
    with Session(bind) as other:
        other.add(PairingAttempt(user_id=ctx.actor_id, ok=ok))
        other.commit()


def _org_for(ctx: Ctx, org_id: int) -> Organisation:
    org = ctx.session.get(Organisation, org_id)
    if org is None:
        raise Invalid(_("No such organisation."), "org_id")
    if ctx.principal is not None and not can(ctx.principal, DISPLAY_MANAGE, org.path):
        raise Forbidden(_("This organisation is outside your part of the tree."))
    return org


def _display_fields(fields: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "floor", "room", "groups", "orientation", "width", "height", "layout",
            "locale", "power_on", "power_off", "off_when_no_school", "timetable_target",
            "transition", "touch")
    return {k: fields[k] for k in keys if k in fields}


def create_with_token(ctx: Ctx, fields: dict[str, Any]) -> tuple[Display, str]:
    """A display made active at once, with its token (scripted provisioning)."""
    org = _org_for(ctx, int(fields["org_id"]))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    display = Display(org_id=org.id, status="active", token_hash=_digest("token", token),
                      paired_at=utcnow(), **_display_fields(fields))
    ctx.session.add(display)
    ctx.session.flush()
    audit.record(ctx, "display.create", ("display", display.id), org,
                 f"Display “{display.name}” added with a token", name=display.name)
    return display, token


def get_display(ctx: Ctx, display_id: int, action: str = DISPLAY_VIEW) -> Display:
    """A display the principal may see (or manage), or raise NotFound / Forbidden."""
    display = ctx.session.get(Display, display_id)
    if display is None:
        raise NotFound(_("No such display."))
    if ctx.principal is not None and not can(ctx.principal, action, display.org.path):
        raise Forbidden(_("This display is outside your part of the tree."))
    return display


def list_displays(ctx: Ctx, org_id: int | None = None, group: str = "") -> list[Display]:
    """Displays in the principal's part of the tree, optionally below a node or in a group."""
    stmt = select(Display).join(Organisation, Organisation.id == Display.org_id)
    if ctx.principal is not None:
        paths = scope_paths(ctx.principal, DISPLAY_VIEW)
        if not paths:
            raise Forbidden()
        stmt = stmt.where(or_(*(Organisation.path.startswith(p) for p in paths)))
    if org_id is not None:
        node = ctx.session.get(Organisation, org_id)
        if node is None:
            raise Invalid(_("No such organisation."), "org_id")
        stmt = stmt.where(Organisation.path.startswith(node.path))
    found = list(ctx.session.scalars(stmt.order_by(Display.name, Display.id)))
    if group:
        found = [d for d in found if group in (d.groups or [])]
    return found


def update_display(ctx: Ctx, display: Display, fields: dict[str, Any]) -> Display:
    """Change where a display hangs and how it plays (its screen follows within seconds)."""
    org = _org_for(ctx, int(fields["org_id"]))
    display.org_id = org.id
    changed = {}
    for key, value in _display_fields(fields).items():
        if getattr(display, key) != value:
            changed[key] = str(value)
            setattr(display, key, value)
    ctx.session.flush()
    ctx.session.refresh(display)
    audit.record(ctx, "display.update", ("display", display.id), org,
                 f"Display “{display.name}” changed", name=display.name, after=changed)
    return display


def revoke(ctx: Ctx, display: Display) -> None:
    """Take the token away: the display answers 401 and falls back to pairing."""
    if display.status == "revoked":
        return
    display.status = "revoked"
    display.token_hash = None
    display.revoked_at = utcnow()
    audit.record(ctx, "display.revoke", ("display", display.id), display.org,
                 f"Display “{display.name}” revoked", name=display.name)


def display_for_token(session: Session, token: str) -> Display | None:
    """The active display holding token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    display = session.scalar(select(Display).where(
        Display.token_hash == _digest("token", token)))
    if display is None or display.status != "active" or display.token_hash is None:
        return None
    if not hmac.compare_digest(display.token_hash, _digest("token", token)):
        return None
    return display


# --- manifests ------------------------------------------------------------------------------

@dataclass
class CachedManifest:
    """A built manifest, the counter value it holds for, and until when it is right."""

    version: int
    valid_until: datetime
    etag: str
    body: bytes
    media: frozenset[str]
    #: The polls it shows (a touch screen may vote only in these).
    polls: frozenset[int] = frozenset()
    #: Whether the display is a touch screen.
    touch: bool = False


class VersionWatcher:
    """One thread per process reads the change counter a few times a second and wakes
    every waiting long poll when it moves: waiting displays cost no database work."""

    #: How often the counter is read, in seconds (a change reaches screens within this).
    INTERVAL = 0.2

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.version: int | None = None
        self.thread: threading.Thread | None = None
        self.engine: Engine | None = None
        self.stopping = threading.Event()

    def start(self, engine: Engine) -> None:
        """Start reading the counter through engine (once per process)."""
        with self.cond:
            if self.thread is None or not self.thread.is_alive():
                self.engine = engine
                self.thread = threading.Thread(target=self._run, daemon=True,
                                               name="vitrina-screen-version")
                self.thread.start()

    def stop(self) -> None:
        """Stop reading the counter (the app is going away)."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(2)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                assert self.engine is not None
                with self.engine.connect() as conn:
                    value = conn.execute(select(ScreenVersion.value).where(
                        ScreenVersion.id == 1)).scalar()
            except Exception:   # noqa: BLE001  (a database blip: try again next round)
                value = None
            if value is not None:
                with self.cond:
                    if value != self.version:
                        self.version = int(value)
                        self.cond.notify_all()
            self.stopping.wait(self.INTERVAL)

    def wait_change(self, engine: Engine, known: int, timeout: float) -> int | None:
        """Block until the counter differs from known (its new value) or timeout (None)."""
        self.start(engine)
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.version is None or self.version == known:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.version


@dataclass
class SharedInputs:
    """What many displays' manifests are built from, read once per counter value:
    the items of each place in the tree, each school's timetable, each node's school."""

    version: int
    items: dict[tuple[int, ...], list[ItemContent]] = field(default_factory=dict)
    timetables: dict[int, Any] = field(default_factory=dict)
    schools: dict[str, int | None] = field(default_factory=dict)


class ManifestCache:
    """Manifests of this process's displays, and which token belongs to which display."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.manifests: dict[int, CachedManifest] = {}
        self.tokens: dict[str, tuple[int, int]] = {}   # token hash → (display id, version)
        self.watcher = VersionWatcher()
        self.shared: SharedInputs | None = None

    def inputs(self, version: int) -> SharedInputs:
        """The shared inputs at this counter value (a new, empty set when it moved)."""
        with self.lock:
            if self.shared is None or self.shared.version != version:
                self.shared = SharedInputs(version)
            return self.shared


def cache() -> ManifestCache:
    """This process's manifest cache."""
    found: ManifestCache = current_app.extensions["vitrina.manifests"]
    return found


def authenticate(session: Session, token: str) -> tuple[int, int] | None:
    """(display id, counter) for a device token; cached while the counter stands still."""
    version = current_version(session)
    key = _digest("token", token)
    known = cache().tokens.get(key)
    if known is not None and known[1] == version:
        return known[0], version
    display = display_for_token(session, token)
    if display is None:
        cache().tokens.pop(key, None)
        return None
    with cache().lock:
        cache().tokens[key] = (display.id, version)
    return display.id, version


def authenticate_id(session: Session, display_id: int) -> int | None:
    """The display's id if it is still active (after the counter moved), else None."""
    display = session.get(Display, display_id)
    if display is None or display.status != "active":
        return None
    return display.id


def seconds_until(built: CachedManifest) -> float:
    """How long a built manifest stays right by the clock."""
    return max((built.valid_until - utcnow()).total_seconds(), 0.0)


def still_valid(built: CachedManifest) -> bool:
    """Whether a built manifest is still right by the clock (before its next change)."""
    return utcnow() < built.valid_until


def _school_of(session: Session, org: Organisation) -> Organisation | None:
    ids = [int(x) for x in org.path.strip("/").split("/") if x]
    for node in session.scalars(select(Organisation).where(Organisation.id.in_(ids))):
        if node.kind == "school":
            return node
    return None


def _item_content(item: ContentItem) -> ItemContent:
    media = None
    if item.media is not None:
        asset = item.media
        media = MediaRef(asset.sha256, "video" if asset.is_video else "image",
                         MEDIA_EXT[asset.kind], asset.size, asset.width, asset.height)
    qr_url = content_service.qr_target(item)
    qr_svg = None
    if qr_url:
        qr_svg = segno.make(qr_url, error="m").svg_inline(scale=4, border=2)
    return ItemContent(
        rule=content_service.to_rule_item(item), title=item.title, body=item.body,
        media=media, fit=str(item.data.get("fit", "contain")), qr_url=qr_url, qr_svg=qr_svg,
        zone=str(item.data.get("zone", "main")),
        options=tuple((o.id, o.label) for o in item.options),
        qa=tuple((e["question"], e["answer"]) for e in item.data.get("qa", [])))


def build_for(session: Session, display: Display, now: datetime,
              shared: SharedInputs | None = None) -> dict[str, Any]:
    """The manifest of display at now, from the database (or inputs already read)."""
    shared = shared or SharedInputs(version=-1)
    ancestors = tuple(int(x) for x in display.org.path.strip("/").split("/") if x)
    items = shared.items.get(ancestors)
    if items is None:
        items = shared.items[ancestors] = [_item_content(i) for i in session.scalars(
            select(ContentItem).where(
                ContentItem.org_id.in_(ancestors), ContentItem.state == "published",
                (ContentItem.ends_at.is_(None)) | (ContentItem.ends_at > now)))]
    if display.org.path not in shared.schools:
        found = _school_of(session, display.org)
        shared.schools[display.org.path] = found.id if found is not None else None
    school_id = shared.schools[display.org.path]
    timetable = None
    windows = None
    if school_id is not None:
        tt = shared.timetables.get(school_id)
        if tt is None:
            school = session.get(Organisation, school_id)
            assert school is not None
            tt = shared.timetables[school_id] = tts.build(session, school)
        target = tts.parse_target(display.timetable_target or "school:") \
            if (display.timetable_target or "school:").partition(":")[0] in (
                "school", "class", "group", "teacher", "room", "building") else None
        if target is not None:
            timetable = screen_slice(tt, target, now)
        windows = lambda spec, day: period_windows(tt, day, spec)  # noqa: E731
    info = DisplayInfo(
        id=display.id, name=display.name, org_path=display.org.path,
        groups=frozenset(display.groups or ()), timezone=display.org.timezone,
        locale=display.locale, layout=display.layout, orientation=display.orientation,
        width=display.width, height=display.height, power_on=display.power_on,
        power_off=display.power_off, off_when_no_school=display.off_when_no_school,
        transition=display.transition, touch=display.touch)
    return build_manifest(info, items, timetable, now, windows)


def manifest(session: Session, display_id: int, version: int) -> CachedManifest:
    """The display's manifest: from this process's cache if nothing changed, else built."""
    now = utcnow()
    known = cache().manifests.get(display_id)
    if known is not None and known.version == version and now < known.valid_until:
        return known
    display = session.get(Display, display_id)
    if display is None:
        raise NotFound(_("No such display."))
    doc = build_for(session, display, now, cache().inputs(version))
    body = canonical_json(doc)
    built = CachedManifest(version, datetime.fromisoformat(doc["next_change_at"]),
                           manifest_etag(body), body,
                           frozenset(m["sha256"] for m in doc["media"]),
                           frozenset(i["id"] for i in doc["items"] if i["kind"] == "poll"),
                           bool(doc["display"]["touch"]))
    with cache().lock:
        cache().manifests[display_id] = built
    return built


def record_heartbeat(session: Session, display_id: int,
                     report: dict[str, Any]) -> list[dict[str, Any]]:
    """Keep what the display says about itself (it changes no screen); answer the remote
    actions still waiting for it (an action it reports done is cleared)."""
    display = session.get(Display, display_id)
    if display is None:
        raise NotFound(_("No such display."))
    done = report.pop("done_action", None)
    if display.action is not None and done is not None and done >= display.action_id:
        audit.record(Ctx(session, None, "display"), "display.action_done",
                     ("display", display.id), display.org,
                     f"Display “{display.name}” did {display.action}", name=display.name,
                     what=display.action)
        display.action = None
    display.last_seen_at = utcnow()
    if display.dark:
        display.dark = False
        audit.record(Ctx(session, None, "display"), "display.back", ("display", display.id),
                     display.org, f"Display “{display.name}” is back", name=display.name)
    for key in ("last_etag", "client_version", "uptime", "free_disk", "cache_size",
                "last_error"):
        if key in report:
            setattr(display, key, report[key])
    if display.action is None:
        return []
    return [{"id": display.action_id, "action": display.action}]


# --- screenshots -----------------------------------------------------------------------------

#: A screenshot is kept at most this wide or tall (a fleet page thumbnail, not evidence).
SCREENSHOT_SIDE = 640
MAX_SCREENSHOT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ScreenshotInfo:
    """When the last screenshot was taken and its size (without its bytes)."""

    taken_at: datetime
    width: int
    height: int


def store_screenshot(session: Session, display_id: int, raw: bytes) -> ScreenshotInfo:
    """Keep a downscaled JPEG of what the screen shows, replacing the one before.

    Only PNG and JPEG are taken; anything else, or a picture too big to decode
    safely, is refused before it is stored."""
    if len(raw) > MAX_SCREENSHOT_BYTES:
        raise Invalid(_("A screenshot is at most 4 MB."), "body")
    if not (raw.startswith(b"\x89PNG\r\n\x1a\n") or raw.startswith(b"\xff\xd8\xff")):
        raise Invalid(_("A screenshot must be a PNG or JPEG picture."), "body")
    try:
        with Image.open(io.BytesIO(raw)) as img:
            if img.width * img.height > 40_000_000:
                raise Invalid(_("The screenshot is too large to decode."), "body")
            img.draft("RGB", (SCREENSHOT_SIDE, SCREENSHOT_SIDE))
            picture = img.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Invalid(_("The screenshot is not a readable picture."), "body") from None
    picture.thumbnail((SCREENSHOT_SIDE, SCREENSHOT_SIDE))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=70, optimize=True)
    row = session.get(DisplayScreenshot, display_id)
    if row is None:
        row = DisplayScreenshot(display_id=display_id)
        session.add(row)
    row.taken_at = utcnow()
    row.width, row.height = picture.width, picture.height
    row.jpeg = out.getvalue()
    return ScreenshotInfo(row.taken_at, row.width, row.height)


def screenshot_info(session: Session, display_id: int) -> ScreenshotInfo | None:
    """The last screenshot's time and size, without loading it."""
    row = session.execute(select(DisplayScreenshot.taken_at, DisplayScreenshot.width,
                                 DisplayScreenshot.height).where(
        DisplayScreenshot.display_id == display_id)).first()
    return ScreenshotInfo(*row) if row is not None else None


def screenshot_of(session: Session, display_id: int) -> DisplayScreenshot | None:
    """The last screenshot with its bytes."""
    return session.get(DisplayScreenshot, display_id)


def mark_dark(session: Session, now: datetime) -> list[Display]:
    """Note the active displays that stopped sending heartbeats (once each, audited)."""
    went = list(session.scalars(select(Display).where(
        Display.status == "active", Display.dark.is_(False),
        Display.last_seen_at.is_not(None), Display.last_seen_at < now - STALE_WITHIN)))
    for display in went:
        display.dark = True
        audit.record(Ctx(session, None, "display"), "display.dark", ("display", display.id),
                     display.org, f"Display “{display.name}” went dark", name=display.name,
                     last_seen=display.last_seen_at.isoformat() if display.last_seen_at else None)
    return went


def validate_if_none_match(header: str) -> list[str]:
    """The entity tags of an If-None-Match header; raise Invalid when it is malformed."""
    header = header.strip()
    if header == "*":
        return ["*"]
    if len(header) > 1000:
        raise Invalid([FieldError("If-None-Match", _("The header is too long."))])
    tags = []
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if len(tag) < 2 or not (tag.startswith('"') and tag.endswith('"')) or '"' in tag[1:-1]:
            raise Invalid([FieldError("If-None-Match",
                                      _("Not a list of quoted entity tags."))])
        tags.append(tag)
    return tags
