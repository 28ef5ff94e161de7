"""Staff forms on the case page."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from ..checklists import CHECKLISTS
from ..forms import MultiCheckboxField, choices, clean_text, max_length
from ..models import ACTION_LABELS, LINK_ROLE_LABELS, ActionKind, ChecklistItem, LinkRole
from ..vocabulary import (
    AGENCIES,
    CATEGORY_LABELS,
    CLASSIFY_KINDS,
    HOW_INFORMED,
    KINDS,
    PLACES,
    STATUS_LABELS,
    WHEN,
    YES_NO_UNSURE,
    Category,
    Status,
)

F = [clean_text]
REASON = [DataRequired("Write the reason for this change."),
          max_length(4000, "Keep the reason to {limit} characters or fewer.")]


class DecisionForm(FlaskForm):
    category = RadioField(
        "Decision",
        choices={c.value: CATEGORY_LABELS[c] for c in Category},
        validators=[InputRequired("Choose a decision.")],
    )
    reason = TextAreaField("Reason for the decision", filters=F, validators=REASON)


class DecideCloseForm(DecisionForm):
    """The decision card's "Record decision and close": the decision, then closing the case
    with the same reason, in one submit."""

    close_override = TextAreaField(
        "Closing with required steps open? Say why", filters=F,
        validators=[max_length(4000, "Keep this to {limit} characters or fewer.")])


class StatusForm(FlaskForm):
    status = SelectField("Move to", choices={s.value: STATUS_LABELS[s] for s in Status},
                         validators=[InputRequired("Choose a status.")])
    status_reason = TextAreaField("Reason", filters=F, validators=REASON)


class NoteForm(FlaskForm):
    note = TextAreaField("Staff-only note", filters=F,
                         validators=[DataRequired("Write the note first."),
                                     max_length(8000, "Keep the note to {limit} characters or "
                                                "fewer.")])


class OverridableStatusForm(StatusForm):
    override = TextAreaField(
        "Closing with required steps open? Say why", filters=F,
        validators=[max_length(4000, "Keep this to {limit} characters or fewer.")])


class LinkPupilForm(FlaskForm):
    pupil_id = HiddenField(validators=[InputRequired("Choose a pupil.")])
    role = SelectField("Role", choices={r.value: LINK_ROLE_LABELS[r] for r in LinkRole},
                       validators=[InputRequired("Choose the pupil's role.")])


class UnlinkForm(FlaskForm):
    unlink_reason = TextAreaField("Why unlink?", filters=F, validators=REASON)


class KindsForm(FlaskForm):
    kinds = MultiCheckboxField("Kinds of bullying", choices=choices(CLASSIFY_KINDS))
    kinds_reason = TextAreaField("Reason", filters=F, validators=REASON)


class ChecklistForm(FlaskForm):
    checklist = SelectField("Add a checklist",
                            choices={k: c.title for k, c in CHECKLISTS.items()},
                            validators=[InputRequired("Choose a checklist.")])


class StepForm(FlaskForm):
    state = RadioField("Step", choices={"done": "Done", "not_needed": "Not needed",
                                        "open": "Still to do"},
                       validators=[InputRequired("Choose done, not needed or still to do.")])
    step_note = TextAreaField("Note", filters=F,
                              validators=[max_length(2000, "Keep the note to {limit} "
                                                     "characters or fewer.")])


STEP_STATES = {"done": "Done", "not_needed": "Not needed", "open": "Still to do"}
STEP_NOTE_LIMIT = 2000


def seen(state: str, note: str) -> str:
    """What the page showed of a step (its state and a digest of its note), sent back with
    the checklist form so only the steps the DSL changed are saved, never a colleague's
    newer answer overwritten with what this page showed."""
    return f"{state}:{hashlib.sha256(note.encode()).hexdigest()[:16]}"


def colleague_changed(item: ChecklistItem) -> str:
    """The refusal of a step saved from a page older than its stored answer."""
    now = STEP_STATES[item.state.value] + (f", ‘{item.note}’" if item.note else "")
    return (f"A colleague changed this step since you opened the page (now: {now}). "
            "Check it, then save again.")


@dataclass(frozen=True)
class StepChange:
    item: ChecklistItem
    state: str
    note: str


class StepsForm(FlaskForm):
    """The whole checklist as one form: per step ``state-<id>`` (done / not_needed / open),
    ``note-<id>`` and ``seen-<id>`` (what the page showed). Several steps, one submit."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.typed: dict[int, tuple[str, str]] = {}
        self.step_errors: dict[int, str] = {}

    def changes(self, items: Iterable[ChecklistItem],
                posted: Mapping[str, str]) -> list[StepChange]:
        """The steps whose state or note the DSL changed on the page, in checklist order;
        keeps what was typed (``typed``) and a message per step it can't read
        (``step_errors``)."""
        found = []
        for item in items:
            state = posted.get(f"state-{item.id}")
            if state is None:
                continue  # a step the page did not show (added since): left as it is
            note = clean_text(posted.get(f"note-{item.id}", item.note or "")) or ""
            self.typed[item.id] = (state, note)
            if state not in STEP_STATES:
                self.step_errors[item.id] = "Choose done, not needed or still to do."
                continue
            if len(note) > STEP_NOTE_LIMIT:
                self.step_errors[item.id] = (f"Keep the note to {STEP_NOTE_LIMIT} characters "
                                             "or fewer.")
                continue
            stored = seen(item.state.value, item.note or "")
            shown = posted.get(f"seen-{item.id}") or stored
            if seen(state, note) == shown:
                continue  # not changed on the page: whatever is stored now stands
            if shown != stored and seen(state, note) != stored:
                # Changed on a page opened before a colleague saved this step: refused, so
                # their answer is read before it is replaced (the page now shows it).
                self.step_errors[item.id] = colleague_changed(item)
                continue
            if seen(state, note) != stored:
                found.append(StepChange(item, state, note))
        return found

    def value(self, item: ChecklistItem) -> tuple[str, str]:
        """The state and note to show for a step: what was typed, else what is stored."""
        return self.typed.get(item.id, (item.state.value, item.note or ""))


class ActionForm(FlaskForm):
    # Support, sanctions and parents told are recorded per party now (issue 14); the old
    # kinds stay in ActionKind so the rows recorded before still read as they did.
    action_kind = SelectField("What was done",
                              choices={ActionKind.AGENCY.value: ACTION_LABELS[ActionKind.AGENCY]},
                              validators=[InputRequired("Choose what was done.")])
    happened_on = DateField("Date", validators=[InputRequired("Enter the date, like 2026-11-23.")])
    who = StringField("Who (e.g. the parent or carer told)", filters=F,
                      validators=[max_length(160, "Keep this to {limit} characters.")])
    how = SelectField("How they were told", choices={"": "—", **choices(HOW_INFORMED)},
                      default="")
    agency = SelectField("Agency", choices={"": "—", **choices(AGENCIES)}, default="")
    action_note = TextAreaField("Details", filters=F,
                                validators=[max_length(4000, "Keep this to {limit} "
                                                       "characters.")])


class AssignForm(FlaskForm):
    assignee = SelectField("Assign to", validate_choice=True)


class ConcernForm(FlaskForm):
    """A member of staff records what a pupil told them in person."""

    told_by = StringField("Pupil who told you", filters=F,
                          validators=[DataRequired("Enter the pupil's name."),
                                      max_length(120, "Keep this to {limit} characters.")])
    told_by_class = StringField("Their class or form", filters=F,
                                validators=[max_length(60, "Keep this to {limit} characters.")])
    what_happened = TextAreaField(
        "What they told you, in their words where you can", filters=F,
        validators=[DataRequired("Write what the pupil told you."),
                    max_length(8000, "Keep this to {limit} characters.")])
    people_involved = TextAreaField("Who else was involved", filters=F,
                                    validators=[max_length(2000, "Keep this to {limit} "
                                                           "characters.")])
    kinds = MultiCheckboxField("Kind", choices=choices(KINDS))
    places = MultiCheckboxField("Where", choices=choices(PLACES))
    when = RadioField("When", choices=choices(WHEN), validators=[Optional()])
    feels_safe = RadioField("Did the pupil say they feel safe now?",
                            choices=choices(YES_NO_UNSURE), validators=[Optional()])


class MessageForm(FlaskForm):
    """A message to the reporter, read through their follow-up code."""

    message = TextAreaField(
        "Message to the reporter", filters=F,
        validators=[DataRequired("Write the message first."),
                    max_length(5000, "Keep the message to {limit} characters or fewer.")])


class AcknowledgeForm(FlaskForm):
    """The "Acknowledge" button: nothing but the CSRF token."""


class HoldForm(FlaskForm):
    """A legal hold keeps a record past its retention date (police, court, complaint)."""

    hold = RadioField("Legal hold", choices={"yes": "Place a legal hold (keep past retention)",
                                             "no": "Lift the hold"},
                      validators=[InputRequired("Choose to hold or lift.")])
    hold_reason = TextAreaField("Why", filters=F, validators=REASON)
