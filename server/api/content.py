"""Content items, alerts and display media over the API (content managers, in their subtree)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import get_timezone
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from server.access import request_ctx, requires
from server.api.framework import Api
from server.content_schemas import (
    AlertRaise,
    BulkIn,
    BulkOut,
    ContentQuery,
    ItemCreate,
    ItemOut,
    ItemUpdate,
    MediaOut,
    MediaUpload,
    RejectIn,
)
from server.errors import Invalid
from server.rights import CONTENT_EDIT
from server.schemas import Page
from server.services import content, media

api = Api("content", "content")
EDIT = requires(CONTENT_EDIT)


def _in_scope(item_id: int, **_: Any) -> None:
    content.get_item(request_ctx(), item_id)


def _out(item: Any) -> dict[str, Any]:
    return content.to_out(request_ctx(), item)


@api.operation("/content", "GET", summary="List content items", access=EDIT,
               query=ContentQuery, response=Page[ItemOut])
def list_items(query: ContentQuery) -> Any:
    """Items of the caller's organisations (archived ones only when asked for)."""
    per_page = int(current_app.config["PAGE_SIZE"])
    found, total = content.list_items(request_ctx(), query, per_page, str(get_timezone()))
    return {"items": [_out(i) for i in found], "total": total, "page": query.page,
            "per_page": per_page}


@api.operation("/content", "POST", summary="Create a draft", access=EDIT, body=ItemCreate,
               response=ItemOut, status=201)
def create_item(body: ItemCreate) -> Any:
    """Create a draft item in an organisation where the caller edits content."""
    return _out(content.create_item(request_ctx(), body))


@api.operation("/content/<int:item_id>", "GET", summary="Read an item", access=EDIT,
               response=ItemOut)
def get_item(item_id: int) -> Any:
    """One item with its state, window, targets and (for polls) votes so far."""
    return _out(content.get_item(request_ctx(), item_id))


@api.operation("/content/<int:item_id>", "PUT", summary="Change an item", access=EDIT,
               guard=_in_scope, body=ItemUpdate, response=ItemOut)
def update_item(item_id: int, body: ItemUpdate) -> Any:
    """Replace an item's fields; a published item goes to review if the caller may not publish."""
    return _out(content.update_item(request_ctx(), item_id, body))


@api.operation("/content/<int:item_id>/publish", "POST", summary="Publish or submit for review",
               access=EDIT, guard=_in_scope, response=ItemOut)
def publish_item(item_id: int) -> Any:
    """Publish a draft; where review is required and the caller may not publish, it waits."""
    return _out(content.publish_item(request_ctx(), item_id))


@api.operation("/content/<int:item_id>/approve", "POST", summary="Approve an item in review",
               access=EDIT, guard=_in_scope, response=ItemOut)
def approve_item(item_id: int) -> Any:
    """Publish an item waiting for review."""
    return _out(content.approve_item(request_ctx(), item_id))


@api.operation("/content/<int:item_id>/reject", "POST", summary="Send an item back",
               access=EDIT, guard=_in_scope, body=RejectIn, response=ItemOut)
def reject_item(item_id: int, body: RejectIn) -> Any:
    """Return an item in review to draft, with the reason for its author."""
    return _out(content.reject_item(request_ctx(), item_id, body.reason))


@api.operation("/content/<int:item_id>/expire", "POST", summary="Take an item off the screens",
               access=EDIT, guard=_in_scope, response=ItemOut)
def expire_item(item_id: int) -> Any:
    """End a published or scheduled item now."""
    return _out(content.expire_item(request_ctx(), item_id))


@api.operation("/content/<int:item_id>/archive", "POST", summary="Archive an item",
               access=EDIT, guard=_in_scope, response=ItemOut)
def archive_item(item_id: int) -> Any:
    """Move an item to the archive; it stops showing."""
    return _out(content.archive_item(request_ctx(), item_id))


@api.operation("/content/<int:item_id>/duplicate", "POST", summary="Copy an item as a draft",
               access=EDIT, guard=_in_scope, response=ItemOut, status=201)
def duplicate_item(item_id: int) -> Any:
    """A new draft with the item's text, media, targets and recurrence."""
    return _out(content.duplicate_item(request_ctx(), item_id))


@api.operation("/content/bulk", "POST", summary="End or archive several items", access=EDIT,
               body=BulkIn, response=BulkOut)
def bulk(body: BulkIn) -> Any:
    """All or nothing: if one item is out of reach, none changes."""
    return {"changed": content.bulk(request_ctx(), body.ids, body.action)}


@api.operation("/alerts", "GET", summary="Alerts on screen now", access=EDIT,
               response=list[ItemOut])
def list_alerts() -> Any:
    """Alerts showing now in the caller's organisations."""
    return [_out(i) for i in content.active_alerts(request_ctx())]


@api.operation("/alerts", "POST", summary="Raise an alert", access=EDIT, body=AlertRaise,
               response=ItemOut, status=201)
def raise_alert(body: AlertRaise) -> Any:
    """Put an alert on the targeted screens at once, over everything else."""
    return _out(content.raise_alert(request_ctx(), body))


@api.operation("/alerts/<int:item_id>/withdraw", "POST", summary="Withdraw an alert",
               access=EDIT, guard=_in_scope, response=ItemOut)
def withdraw_alert(item_id: int) -> Any:
    """Take an alert off the screens now."""
    item = content.get_item(request_ctx(), item_id)
    if item.kind != "alert":
        raise Invalid(_("This item is not an alert."))
    return _out(content.expire_item(request_ctx(), item_id))


@api.operation("/media", "GET", summary="List display media", access=EDIT,
               response=list[MediaOut])
def list_media() -> Any:
    """Images and videos of the caller's organisations, newest first."""
    return [media.to_out(a) for a in media.visible_media(request_ctx())]


@api.operation("/media", "POST", summary="Upload an image or a video", access=EDIT,
               upload=MediaUpload, response=MediaOut, status=201)
def upload_media(form: MediaUpload, file: FileStorage) -> Any:
    """Checked, turned upright, stripped of metadata, scaled and stored once by SHA-256."""
    asset = media.upload(request_ctx(), form.org_id, file.filename or "upload", file.read())
    return media.to_out(asset)
