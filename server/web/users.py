"""People and their roles in the admin UI (admins, within their subtree)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.access import request_ctx, requires
from server.errors import Invalid
from server.rights import ROLES, USER_MANAGE
from server.schemas import GrantCreate, PasswordSet, UserCreate, UserQuery, UserUpdate
from server.services import orgs, users
from server.web.forms import errors_by_field, parse_args, parse_form

bp = Blueprint("users", __name__, url_prefix="/users")



def _org_choices() -> list[orgs.TreeRow]:
    return orgs.as_tree(orgs.visible_orgs(request_ctx(), USER_MANAGE))


@bp.get("/")
@requires(USER_MANAGE)
def index() -> Any:
    """People in the admin's part of the tree, with search."""
    query = parse_args(UserQuery)
    per_page = int(current_app.config["PAGE_SIZE"])
    found, total = users.list_users(request_ctx(), query, per_page)
    return render_template("users/index.html", users=found, total=total, query=query,
                           per_page=per_page, org_rows=_org_choices())


@bp.route("/new", methods=["GET", "POST"])
@requires(USER_MANAGE)
def create() -> Any:
    """Create an account."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            data = parse_form(UserCreate)
            user = users.create_user(request_ctx(), data)
        except Invalid as exc:
            errors = errors_by_field(exc)
        else:
            flash(_("Account “%(name)s” has been created. Now give it a role.",
                    name=user.username), "ok")
            return redirect(url_for("users.show", user_id=user.id))
    form = request.form if request.method == "POST" else {"org_id": request.args.get("org", "")}
    return render_template("users/new.html", form=form, errors=errors,
                           org_rows=_org_choices()), 422 if errors else 200


def _show(user_id: int, status: int = 200, **extra: Any) -> Any:
    user = users.get_user(request_ctx(), user_id)
    form = extra.pop("form", None) or {
        "display_name": user.display_name, "email": user.email or "",
        "org_id": str(user.org_id), "locale": user.locale or "", "is_active": user.is_active}
    return render_template("users/show.html", user=user, form=form, roles=ROLES,
                           org_rows=_org_choices(),
                           languages=current_app.config["SUPPORTED_LOCALES"], **extra), status


@bp.get("/<int:user_id>")
@requires(USER_MANAGE)
def show(user_id: int) -> Any:
    """One account: details, roles, password reset."""
    return _show(user_id)


@bp.post("/<int:user_id>")
@requires(USER_MANAGE)
def update(user_id: int) -> Any:
    """Save an account's details."""
    users.get_user(request_ctx(), user_id)  # 403 before looking at the form
    try:
        data = parse_form(UserUpdate)
        users.update_user(request_ctx(), user_id, data)
    except Invalid as exc:
        return _show(user_id, 422, errors=errors_by_field(exc), form=request.form)
    flash(_("Changes saved."), "ok")
    return redirect(url_for("users.show", user_id=user_id))


@bp.post("/<int:user_id>/password")
@requires(USER_MANAGE)
def reset_password(user_id: int) -> Any:
    """Set a new password for someone who forgot theirs."""
    users.get_user(request_ctx(), user_id)  # 403 before looking at the form
    try:
        data = parse_form(PasswordSet)
        users.set_password(request_ctx(), user_id, data.password)
    except Invalid as exc:
        return _show(user_id, 422, password_errors=errors_by_field(exc))
    flash(_("The password has been set. Their open sessions have ended."), "ok")
    return redirect(url_for("users.show", user_id=user_id))


@bp.post("/<int:user_id>/grants")
@requires(USER_MANAGE)
def add_grant(user_id: int) -> Any:
    """Give a role on a node."""
    users.get_user(request_ctx(), user_id)  # 403 before looking at the form
    try:
        data = parse_form(GrantCreate)
        users.add_grant(request_ctx(), user_id, data)
    except Invalid as exc:
        return _show(user_id, 422, grant_errors=errors_by_field(exc))
    flash(_("The role has been granted."), "ok")
    return redirect(url_for("users.show", user_id=user_id))


@bp.post("/<int:user_id>/grants/<int:grant_id>/delete")
@requires(USER_MANAGE)
def remove_grant(user_id: int, grant_id: int) -> Any:
    """Take a role back."""
    try:
        users.remove_grant(request_ctx(), user_id, grant_id)
    except Invalid as exc:
        return _show(user_id, 422, grant_errors=errors_by_field(exc))
    flash(_("The role has been removed."), "ok")
    return redirect(url_for("users.show", user_id=user_id))
