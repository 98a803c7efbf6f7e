"""Content items: writing, review, publishing, alerts, expiry and archive."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from content.publication import Item, Recurrence, Targets, effective_state
from content.richtext import plain_text, sanitize_html
from server import faults
from server.content_schemas import AlertRaise, ContentQuery, ItemCreate, ItemFields
from server.errors import FieldError, Forbidden, Invalid, NotFound
from server.models.base import utcnow
from server.models.content import ContentItem, ContentTarget, PollOption, PollVote
from server.models.media import MediaAsset
from server.models.orgs import Organisation
from server.rights import CONTENT_EDIT, CONTENT_PUBLISH, can, scope_paths
from server.services import audit
from server.services.context import Ctx
from server.services.media import to_out as media_out


def _may(ctx: Ctx, action: str, org: Organisation) -> bool:
    return ctx.principal is None or can(ctx.principal, action, org.path)


def org_in_scope(ctx: Ctx, org_id: int) -> Organisation:
    """An organisation where the principal edits content, or raise Invalid / Forbidden."""
    org = ctx.session.get(Organisation, org_id)
    if org is None:
        raise Invalid(_("No such organisation."), "org_id")
    if not _may(ctx, CONTENT_EDIT, org):
        raise Forbidden(_("This organisation is outside your part of the tree."))
    return org


def get_item(ctx: Ctx, item_id: int) -> ContentItem:
    """Load an item the principal may edit, or raise NotFound / Forbidden."""
    item = ctx.session.get(ContentItem, item_id)
    if item is None:
        raise NotFound(_("No such item."))
    if not _may(ctx, CONTENT_EDIT, item.org):
        raise Forbidden(_("This item belongs to an organisation outside your part of the tree."))
    return item


def item_state(item: ContentItem, now: datetime | None = None) -> str:
    """The state a person sees (scheduled and expired follow from the window)."""
    return effective_state(item.state, item.starts_at, item.ends_at, now or utcnow())


def _state_filter(state: str, now: datetime) -> ColumnElement[bool]:
    published = ContentItem.state == "published"
    started = or_(ContentItem.starts_at.is_(None), ContentItem.starts_at <= now)
    running = or_(ContentItem.ends_at.is_(None), ContentItem.ends_at > now)
    if state == "scheduled":
        return and_(published, ContentItem.starts_at > now, running)
    if state == "expired":
        return and_(published, ContentItem.ends_at <= now)
    if state == "published":
        return and_(published, started, running)
    return ContentItem.state == state


def list_items(ctx: Ctx, query: ContentQuery, per_page: int, tz: str = "UTC"
               ) -> tuple[list[ContentItem], int]:
    """Items of organisations in the principal's content scope, filtered and paged."""
    stmt = select(ContentItem).join(Organisation, Organisation.id == ContentItem.org_id)
    if ctx.principal is not None:
        paths = scope_paths(ctx.principal, CONTENT_EDIT)
        if not paths:
            raise Forbidden()
        stmt = stmt.where(or_(*(Organisation.path.startswith(p) for p in paths)))
    now = utcnow()
    if query.state:
        stmt = stmt.where(_state_filter(query.state, now))
    else:
        stmt = stmt.where(ContentItem.state != "archived")
    if query.kind:
        stmt = stmt.where(ContentItem.kind == query.kind)
    if query.org_id is not None:
        org = ctx.session.get(Organisation, query.org_id)
        if org is None or not _may(ctx, CONTENT_EDIT, org):
            raise Forbidden(_("This organisation is outside your part of the tree."))
        stmt = stmt.where(Organisation.path.startswith(org.path))
    if query.q:
        like = f"%{query.q.lower()}%"
        stmt = stmt.where(or_(func.lower(ContentItem.title).like(like),
                              func.lower(ContentItem.body).like(like)))
    if query.date:
        try:
            day = date.fromisoformat(query.date)
        except ValueError:
            raise Invalid(_("Must be a date (YYYY-MM-DD)."), "date") from None
        zone = ZoneInfo(tz)
        start = datetime.combine(day, time.min, zone).astimezone(UTC)
        end = start + timedelta(days=1)
        stmt = stmt.where(or_(ContentItem.starts_at.is_(None), ContentItem.starts_at < end),
                          or_(ContentItem.ends_at.is_(None), ContentItem.ends_at > start))
    total = ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = ctx.session.scalars(
        stmt.order_by(ContentItem.updated_at.desc(), ContentItem.id.desc())
        .limit(per_page).offset((query.page - 1) * per_page)).all()
    return list(rows), total


def review_node(ctx: Ctx, org: Organisation) -> Organisation | None:
    """The nearest node at or above org that requires review, if any."""
    ids = [int(p) for p in org.path.strip("/").split("/") if p]
    rows = {o.id: o for o in ctx.session.scalars(
        select(Organisation).where(Organisation.id.in_(ids), Organisation.requires_review))}
    for node_id in reversed(ids):
        if node_id in rows:
            return rows[node_id]
    return None


def may_publish(ctx: Ctx, org: Organisation) -> bool:
    """Whether the principal publishes on org without review."""
    if ctx.principal is None:
        return True
    node = review_node(ctx, org) or org
    return can(ctx.principal, CONTENT_PUBLISH, node.path)


def _resolve_targets(ctx: Ctx, owner: Organisation, ids: list[int]) -> list[Organisation]:
    found = {o.id: o for o in ctx.session.scalars(
        select(Organisation).where(Organisation.id.in_(ids)))} if ids else {}
    targets = []
    for org_id in dict.fromkeys(ids):
        org = found.get(org_id)
        if org is None:
            raise Invalid(_("No such organisation."), "target_org_ids")
        if not org.path.startswith(owner.path) or not _may(ctx, CONTENT_EDIT, org):
            raise Invalid(_("“%(name)s” is outside this item's organisation.", name=org.name),
                          "target_org_ids")
        targets.append(org)
    return targets


def _check_kind_fields(ctx: Ctx, kind: str, owner: Organisation, data: ItemFields) -> None:
    errors: list[FieldError] = []
    if kind == "link" and not data.url:
        errors.append(FieldError("url", _("A link needs its address (http:// or https://).")))
    if kind == "qa" and not data.qa:
        errors.append(FieldError("qa", _("Add at least one question with its answer.")))
    if kind == "poll" and len(data.options) < 2:
        errors.append(FieldError("options", _("A poll needs at least two answers.")))
    if data.zone == "ticker" and kind not in ("news", "link"):
        errors.append(FieldError("zone", _("Only news and links run in the ticker line.")))
    if kind == "media" and data.media_id is None:
        errors.append(FieldError("media_id", _("Choose an image or a video to show.")))
    if data.media_id is not None:
        media = ctx.session.get(MediaAsset, data.media_id)
        if media is None or not owner.path.startswith(
                ctx.session.get(Organisation, media.org_id).path):  # type: ignore[union-attr]
            errors.append(FieldError("media_id", _("No such image or video here.")))
        elif kind == "news" and media.is_video:
            errors.append(FieldError("media_id", _("A news item takes an image, not a video.")))
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        errors.append(FieldError("ends_at", _("The end must come after the start.")))
    if (data.daily_start is None) != (data.daily_end is None):
        errors.append(FieldError("daily_end", _("Give both the daily start and end, or neither.")))
    if not data.target_org_ids and not data.target_groups:
        errors.append(FieldError("target_org_ids",
                                 _("Choose where to show it: organisations and/or groups.")))
    if data.target_mode == "all" and not (data.target_org_ids and data.target_groups):
        errors.append(FieldError("target_mode", _(
            "“Both” needs organisations and groups; otherwise choose “either”.")))
    if errors:
        raise Invalid(errors)


def _apply(ctx: Ctx, item: ContentItem, data: ItemFields) -> None:
    owner = item.org
    _check_kind_fields(ctx, item.kind, owner, data)
    targets = _resolve_targets(ctx, owner, data.target_org_ids)
    item.title = data.title
    item.body = sanitize_html(data.body) if item.kind == "news" else plain_text(data.body)
    item.severity = data.severity if item.kind == "alert" else "info"
    extra: dict[str, Any] = {}
    if item.kind == "link":
        extra["url"] = data.url
    if item.kind == "qa":
        extra["qa"] = [e.model_dump() for e in data.qa]
    if item.kind == "media":
        extra["fit"] = data.fit
    if data.zone == "ticker":
        extra["zone"] = "ticker"
    if data.during and item.kind != "alert":
        extra["during"] = data.during
    item.data = extra
    item.media_id = data.media_id if item.kind in ("news", "media") else None
    item.starts_at, item.ends_at = data.starts_at, data.ends_at
    item.weekdays = "".join(str(d) for d in sorted(set(data.weekdays)))
    item.daily_start, item.daily_end = data.daily_start, data.daily_end
    item.priority, item.duration = data.priority, data.duration
    item.target_mode = data.target_mode
    item.target_groups = list(data.target_groups)
    keep = {t.org_id: t for t in item.targets}
    item.targets = [keep.get(o.id) or ContentTarget(org_id=o.id) for o in targets]
    if item.kind == "poll":
        _set_options(ctx, item, data.options)


def _set_options(ctx: Ctx, item: ContentItem, labels: list[str]) -> None:
    current = [o.label for o in item.options]
    if current == labels:
        return
    has_votes = item.id is not None and ctx.session.scalar(
        select(func.count()).select_from(PollVote).where(PollVote.item_id == item.id))
    if has_votes:
        raise Invalid(_("People have voted already; the answers cannot change now."), "options")
    item.options = [PollOption(position=i, label=label) for i, label in enumerate(labels)]


def create_item(ctx: Ctx, data: ItemCreate) -> ContentItem:
    """Create a draft in an organisation where the principal edits content."""
    owner = org_in_scope(ctx, data.org_id)
    item = ContentItem(org=owner, kind=data.kind, state="draft", created_by_id=ctx.actor_id)
    if data.kind == "poll":
        item.public_key = secrets.token_urlsafe(12)
    _apply(ctx, item, data)
    ctx.session.add(item)
    ctx.session.flush()
    audit.record(ctx, "content.create", ("content", item.id), owner,
                 f"Created {item.kind} {item.title}", kind=item.kind, title=item.title)
    return item


def update_item(ctx: Ctx, item_id: int, data: ItemFields) -> ContentItem:
    """Change an item; a published one changed by someone who may not publish goes to review."""
    item = get_item(ctx, item_id)
    if item.state == "archived":
        raise Invalid(_("An archived item cannot be changed; duplicate it instead."))
    _apply(ctx, item, data)
    if item.state == "published" and not may_publish(ctx, item.org):
        item.state = "review"
    item.updated_at = utcnow()
    audit.record(ctx, "content.update", ("content", item.id), item.org,
                 f"Changed {item.kind} {item.title}", kind=item.kind, title=item.title)
    return item


def publish_item(ctx: Ctx, item_id: int) -> ContentItem:
    """Publish an item, or send it for review when the principal may not publish here."""
    item = get_item(ctx, item_id)
    if item.state not in ("draft", "review"):
        raise Invalid(_("Only a draft can be published."))
    if item.ends_at is not None and item.ends_at <= utcnow():
        raise Invalid(_("Its end has already passed; change the end first."), "ends_at")
    if may_publish(ctx, item.org):
        item.state = "published"
        item.published_at = utcnow()
        item.review_note = None
        audit.record(ctx, "content.publish", ("content", item.id), item.org,
                     f"Published {item.kind} {item.title}", kind=item.kind, title=item.title)
    else:
        item.state = "review"
        audit.record(ctx, "content.submit", ("content", item.id), item.org,
                     f"Sent {item.kind} {item.title} for review", kind=item.kind,
                     title=item.title)
    ctx.session.flush()
    faults.pause_point("content.publish")
    return item


def _reviewable(ctx: Ctx, item_id: int) -> ContentItem:
    item = get_item(ctx, item_id)
    if item.state != "review":
        raise Invalid(_("This item is not waiting for review."))
    if not may_publish(ctx, item.org):
        raise Forbidden(_("Only someone who may publish here can review this item."))
    return item


def approve_item(ctx: Ctx, item_id: int) -> ContentItem:
    """Approve an item waiting for review: it is published."""
    item = _reviewable(ctx, item_id)
    item.state = "published"
    item.published_at = utcnow()
    item.review_note = None
    audit.record(ctx, "content.approve", ("content", item.id), item.org,
                 f"Approved {item.kind} {item.title}", kind=item.kind, title=item.title)
    return item


def reject_item(ctx: Ctx, item_id: int, reason: str) -> ContentItem:
    """Send an item back to its author as a draft, with the reason."""
    item = _reviewable(ctx, item_id)
    item.state = "draft"
    item.review_note = reason
    audit.record(ctx, "content.reject", ("content", item.id), item.org,
                 f"Rejected {item.kind} {item.title}", kind=item.kind, title=item.title,
                 reason=reason)
    return item


def expire_item(ctx: Ctx, item_id: int) -> ContentItem:
    """End an item's showing now (withdraws an alert)."""
    item = get_item(ctx, item_id)
    now = utcnow()
    if item.state != "published" or (item.ends_at is not None and item.ends_at <= now):
        raise Invalid(_("Only an item that is published or scheduled can be ended."))
    item.ends_at = now
    if item.starts_at is not None and item.starts_at > now:
        item.starts_at = now
    action = "alert.withdraw" if item.kind == "alert" else "content.expire"
    audit.record(ctx, action, ("content", item.id), item.org,
                 f"Ended {item.kind} {item.title}", kind=item.kind, title=item.title)
    return item


def archive_item(ctx: Ctx, item_id: int) -> ContentItem:
    """Move an item to the archive (it stops showing if it was)."""
    item = get_item(ctx, item_id)
    if item.state == "archived":
        return item
    now = utcnow()
    if item.state == "published" and (item.ends_at is None or item.ends_at > now):
        item.ends_at = now
    item.state = "archived"
    audit.record(ctx, "content.archive", ("content", item.id), item.org,
                 f"Archived {item.kind} {item.title}", kind=item.kind, title=item.title)
    return item


def duplicate_item(ctx: Ctx, item_id: int) -> ContentItem:
    """Copy an item as a new draft (without votes and without its window's past)."""
    src = get_item(ctx, item_id)
    copy = ContentItem(
        org=src.org, kind=src.kind, state="draft",
        title=_("%(title)s (copy)", title=src.title)[:200],
        body=src.body, data=dict(src.data), severity=src.severity, media_id=src.media_id,
        weekdays=src.weekdays, daily_start=src.daily_start, daily_end=src.daily_end,
        priority=src.priority, duration=src.duration, target_mode=src.target_mode,
        target_groups=list(src.target_groups), created_by_id=ctx.actor_id,
        targets=[ContentTarget(org_id=t.org_id) for t in src.targets],
        options=[PollOption(position=o.position, label=o.label) for o in src.options],
        public_key=secrets.token_urlsafe(12) if src.kind == "poll" else None,
    )
    ctx.session.add(copy)
    ctx.session.flush()
    audit.record(ctx, "content.create", ("content", copy.id), copy.org,
                 f"Duplicated {src.kind} {src.title}", kind=copy.kind, title=copy.title,
                 source=src.id)
    return copy


def bulk(ctx: Ctx, ids: list[int], action: str) -> int:
    """Expire or archive several items at once; all or nothing. Returns how many changed."""
    changed = 0
    for item_id in dict.fromkeys(ids):
        item = get_item(ctx, item_id)
        if action == "archive":
            if item.state != "archived":
                archive_item(ctx, item_id)
                changed += 1
        elif item_state(item) in ("published", "scheduled"):
            expire_item(ctx, item_id)
            changed += 1
    return changed


def raise_alert(ctx: Ctx, data: AlertRaise) -> ContentItem:
    """Create and publish an alert in one step (an emergency never waits for review)."""
    owner = org_in_scope(ctx, data.org_id)
    fields = ItemFields(title=data.title, body=data.body, severity=data.severity,
                        target_org_ids=data.target_org_ids or [owner.id],
                        target_groups=data.target_groups, ends_at=data.ends_at,
                        priority=100, duration=30)
    item = ContentItem(org=owner, kind="alert", state="published", created_by_id=ctx.actor_id)
    _apply(ctx, item, fields)
    item.published_at = item.starts_at = utcnow()
    ctx.session.add(item)
    ctx.session.flush()
    audit.record(ctx, "alert.raise", ("content", item.id), owner,
                 f"Raised {data.severity} alert {data.title}", kind="alert", title=data.title,
                 severity=data.severity)
    return item


def active_alerts(ctx: Ctx) -> list[ContentItem]:
    """Alerts on screen now in the principal's content scope."""
    now = utcnow()
    stmt = (select(ContentItem).join(Organisation, Organisation.id == ContentItem.org_id)
            .where(ContentItem.kind == "alert", _state_filter("published", now)))
    if ctx.principal is not None:
        paths = scope_paths(ctx.principal, CONTENT_EDIT)
        stmt = stmt.where(or_(*(Organisation.path.startswith(p) for p in paths)))
    return list(ctx.session.scalars(stmt.order_by(ContentItem.starts_at.desc())))


def poll_results(ctx: Ctx, item: ContentItem) -> dict[int, int]:
    """Votes per option id."""
    rows = ctx.session.execute(
        select(PollVote.option_id, func.count()).where(PollVote.item_id == item.id)
        .group_by(PollVote.option_id)).all()
    return {option_id: count for option_id, count in rows}


def to_rule_item(item: ContentItem) -> Item:
    """The plain-data view of an item that content.publication decides on."""
    return Item(
        id=item.id, kind=item.kind, state=item.state, owner_path=item.org.path,
        targets=Targets(org_paths=tuple(t.org.path for t in item.targets),
                        groups=frozenset(item.target_groups), mode=item.target_mode),
        starts_at=item.starts_at, ends_at=item.ends_at,
        recurrence=Recurrence(weekdays=frozenset(int(d) for d in item.weekdays),
                              start=item.daily_start, end=item.daily_end),
        priority=item.priority, duration=item.duration, severity=item.severity,
        during=str(item.data.get("during", "")),
    )


def vote_url(item: ContentItem) -> str | None:
    """The public address where phones vote in a poll (what its QR code holds)."""
    if item.kind != "poll" or not item.public_key:
        return None
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return base + url_for("vote.page", key=item.public_key)


def qr_target(item: ContentItem) -> str | None:
    """What a screen's QR code for this item opens: a link's address or a poll's vote page."""
    if item.kind == "link":
        url: str | None = item.data.get("url")
        return url
    return vote_url(item)


def to_out(ctx: Ctx, item: ContentItem) -> dict[str, Any]:
    """The API representation of an item."""
    votes = poll_results(ctx, item) if item.kind == "poll" else {}
    media = media_out(item.media) if item.media is not None else None
    return {
        "id": item.id, "org_id": item.org_id, "kind": item.kind, "state": item_state(item),
        "title": item.title, "body": item.body, "severity": item.severity,
        "url": item.data.get("url"), "qa": item.data.get("qa", []),
        "options": [{"id": o.id, "label": o.label, "votes": votes.get(o.id, 0)}
                    for o in item.options],
        "media": media, "fit": item.data.get("fit", "contain"),
        "zone": item.data.get("zone", "main"),
        "starts_at": item.starts_at, "ends_at": item.ends_at,
        "weekdays": [int(d) for d in item.weekdays], "daily_start": item.daily_start,
        "daily_end": item.daily_end, "priority": item.priority, "duration": item.duration,
        "target_org_ids": [t.org_id for t in item.targets],
        "target_groups": list(item.target_groups), "target_mode": item.target_mode,
        "review_note": item.review_note,
        "vote_url": vote_url(item),
        "created_at": item.created_at, "updated_at": item.updated_at,
        "published_at": item.published_at,
    }
