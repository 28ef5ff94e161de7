"""The roster upload in the browser (issue 18): the school's MIS export (CSV) is uploaded,
the page shows what the import would add, change and leave off the roll, or every row that
needs fixing in plain words, and nothing is written until the administrator confirms; then
all rows or none, as `portal import-pupils` does (portal.roster, portal.accounts).

Between the preview and the confirmation the file travels in the confirmation form itself
(base64), sealed with an HMAC under the app's secret key: what is confirmed is exactly what
was previewed, on any app server, and nothing of a roster waits on the server's disk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from wtforms import HiddenField, RadioField

from .. import accounts
from ..auth.access import allow, staff_user
from ..db import get_session
from ..errors import RERENDER
from ..events import Action
from ..models import Event, Role
from ..roster import RosterError, preview
from .staff import lock_school
from .views import bp
from .views_notices import _school

ROLES = (Role.ADMIN, Role.DSL)
# A whole secondary school's export with three contacts a pupil is well under this
MAX_FILE_BYTES = 4 * 1024 * 1024
SHOWN = 200  # names listed per part of the preview; the counts are always whole
# A preview is confirmed within this, or uploaded again (the roll may have changed since)
PREVIEW_SECONDS = 3600
ENDPOINTS = ("admin.upload_roster", "admin.confirm_roster")


class UploadForm(FlaskForm):
    roster_file = FileField("The MIS export (CSV)")


class ConfirmForm(FlaskForm):
    roster_data = HiddenField()
    roster_seal = HiddenField()
    roster_issued = HiddenField()
    roster_roll = HiddenField()
    leavers = RadioField("Pupils on the roll who are not in this file", choices={
        "keep": "Leave them on the roll (the file is part of the school)",
        "off": "Take them off the roll (the file is the whole school: they have left)"},
        default="keep")


@bp.url_value_preprocessor
def _room_for_a_roster(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """The upload and its confirmation may carry a whole school's export; every other page
    keeps the app's 1 MiB (a preprocessor runs before CSRF protection reads the form)."""
    if endpoint in ENDPOINTS:
        request.max_content_length = MAX_FILE_BYTES * 2
        request.max_form_memory_size = MAX_FILE_BYTES * 2


def _seal(data: bytes, school_id: int, user_id: int, issued: int, roll: int) -> str:
    """The file, for this school, previewed by this person at this time, against the roll
    as the school's last import (``roll``, its event id) left it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"roster:%d:%d:%d:%d:" % (school_id, user_id, issued, roll) + data,
                    hashlib.sha256).hexdigest()


def _roll(school_id: int) -> int:
    """Which import the roll is at: the id of the school's last roster import event (0 for
    none). A preview is confirmed only against the roll it was made from: an older preview
    would otherwise undo a newer import, and one preview import twice (the second trial)."""
    return get_session().scalar(select(func.max(Event.id)).where(
        Event.school_id == school_id, Event.action == Action.ROSTER_IMPORTED.value)) or 0


def _upload_page(code: int = 200, problem: str | None = None) -> ResponseReturnValue:
    return render_template("admin/roster_import.html", form=UploadForm(formdata=None),
                           problem=problem, max_mb=MAX_FILE_BYTES // (1024 * 1024)), code


@bp.route("/roster/import")
@allow(*ROLES)
def roster_import() -> ResponseReturnValue:
    return _upload_page()


def _preview_page(data: bytes, code: int = 200, problem: str | None = None,
                  form: ConfirmForm | None = None) -> ResponseReturnValue:
    school = _school()
    try:
        seen = preview(get_session(), school, data)
    except RosterError as error:
        return _upload_page(400, f"{error} Nothing was imported.")
    confirm = form or ConfirmForm(formdata=None)
    issued = int(time.time())
    confirm.roster_data.data = base64.b64encode(data).decode()
    roll = _roll(school.id)
    confirm.roster_issued.data = str(issued)
    confirm.roster_roll.data = str(roll)
    confirm.roster_seal.data = _seal(data, school.id, staff_user().id, issued, roll)
    return render_template("admin/roster_preview.html", seen=seen, confirm=confirm,
                           problem=problem, shown=SHOWN), \
        code if not seen.errors else 400


@bp.route("/roster/import", methods=["POST"])
@allow(*ROLES)
def upload_roster() -> ResponseReturnValue:
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(400, "The page had expired: choose the file again.")
    upload = form.roster_file.data
    data = upload.read(MAX_FILE_BYTES + 1) if upload else b""
    if not data:
        return _upload_page(400, "Choose the CSV file your MIS exported.")
    if len(data) > MAX_FILE_BYTES:
        return _upload_page(400, f"The file is bigger than {MAX_FILE_BYTES // (1024 * 1024)} "
                                 "MB: export only the columns listed below.")
    return _preview_page(data)


@bp.route("/roster/import/confirm", methods=["POST"])
@allow(*ROLES)
def confirm_roster() -> ResponseReturnValue:
    form = ConfirmForm()
    school = _school()
    try:
        data = base64.b64decode(form.roster_data.data or "", validate=True)
        issued = int(form.roster_issued.data or "")
        roll = int(form.roster_roll.data or "")
    except (binascii.Error, ValueError):
        data, issued, roll = b"", 0, 0
    db = get_session()
    # One confirmation at a time per school (a double click, two app servers): the second
    # waits, then finds the roll moved on and is refused in words, never a duplicate row
    lock_school(db, school.id)
    if not data or not hmac.compare_digest(form.roster_seal.data or "",
                                           _seal(data, school.id, staff_user().id, issued,
                                                 roll)):
        db.rollback()
        return _upload_page(400, "That was not the file you previewed: upload it again. "
                                 "Nothing was imported.")
    if roll != _roll(school.id):
        db.rollback()
        return _upload_page(400, "The roll has changed since this preview (a roster was "
                                 "imported after it, perhaps this one): upload the file "
                                 "again to see what it would change now. Nothing was "
                                 "imported.")
    if not 0 <= time.time() - issued <= PREVIEW_SECONDS:
        return _upload_page(400, f"The preview is more than {PREVIEW_SECONDS // 60} minutes "
                                 "old and the roll may have changed since: upload the file "
                                 "again. Nothing was imported.")
    if not form.validate_on_submit():
        db.rollback()
        if form.leavers.errors and form.leavers.data not in ("keep", "off"):
            return _preview_page(data, 400, "Choose whether the pupils not in the file stay "
                                            "on the roll.", form)
        return _preview_page(data, 400, "The page had expired: confirm again.", form)
    try:
        result = accounts.import_pupils(db, school, data, actor=staff_user(),
                                        leavers_off_roll=form.leavers.data == "off")
    except accounts.RosterRefused as error:
        db.rollback()
        return _preview_page(data, 400, str(error), form)
    db.commit()
    left = f", {result.left} taken off the roll" if result.left else ""
    contacts = f"; {result.contacts} parent and carer contacts" \
        if result.contacts is not None else ""
    flash(f"Roster imported: {result.added} added, {result.updated} changed, "
          f"{result.unchanged} unchanged{left}{contacts}.")
    return redirect(url_for("admin.roster"))


def _rerender_upload(message: str, status: int) -> Response:
    """A refused upload (too big for the server to read, an expired page) comes back as
    the upload page, saying nothing was imported."""
    if status == 413:
        message = (f"The file is bigger than {MAX_FILE_BYTES // (1024 * 1024)} MB: export "
                   "only the columns listed below.")
    return make_response(_upload_page(status, f"{message} Nothing was imported."))


for _endpoint in ENDPOINTS:
    RERENDER[_endpoint] = _rerender_upload


__all__ = ["ConfirmForm", "UploadForm"]
