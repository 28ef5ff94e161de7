"""Rules for the school's list of trusted adults, its roster and its settings. No Flask here."""

from __future__ import annotations

import enum
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import linking
from ..events import Action
from ..models import Event, Pupil, School, TrustedAdult, User, upn_index


def add_trusted_adult(session: Session, school: School, *, actor: User, name: str,
                      description: str) -> TrustedAdult:
    """Add an adult pupils can ask to talk to ("a member of staff of their choice")."""
    position = session.scalar(
        select(func.coalesce(func.max(TrustedAdult.position), 0))
        .where(TrustedAdult.school_id == school.id)
    ) or 0
    adult = TrustedAdult(school_id=school.id, name=name, description=description,
                         position=position + 1)
    session.add(adult)
    session.flush()
    session.add(Event.by(actor, Action.ADULT_ADDED, {"adult_id": adult.id},
                         school_id=school.id))
    session.flush()
    return adult


def set_trusted_adult_active(session: Session, adult: TrustedAdult, *, actor: User,
                             active: bool) -> None:
    """Show or hide an adult on the pupil form (kept, since old reports name them)."""
    adult.active = active
    session.add(Event.by(actor, Action.ADULT_SHOWN if active else Action.ADULT_HIDDEN,
                         {"adult_id": adult.id}, school_id=adult.school_id))
    session.flush()


class DuplicatePupil(ValueError):
    """Another pupil of the school already has that UPN."""


def save_pupil(session: Session, school: School, *, actor: User, pupil: Pupil | None,
               values: dict[str, object]) -> Pupil:
    """Add a pupil, or correct one, by hand (the MIS import does the same for many)."""
    upn = str(values["upn"]).upper()
    clash = session.scalar(select(Pupil).where(Pupil.school_id == school.id,
                                               Pupil.upn_hash == upn_index(upn)))
    if clash is not None and clash is not pupil:
        raise DuplicatePupil(f"{clash.name} already has the UPN {upn}.")
    if pupil is None:
        pupil = Pupil(school_id=school.id)
        session.add(pupil)
    for key, value in {**values, "upn": upn}.items():
        setattr(pupil, key, value)
    session.flush()
    session.add(Event.by(actor, Action.PUPIL_SAVED, {"pupil_id": pupil.id},
                         school_id=school.id))
    session.flush()
    return pupil


def _plain(value: object) -> object:
    """A setting's value as JSON keeps it: numbers, words, flags; an enum as its code."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return value.value if isinstance(value, enum.Enum) else str(value)


def save_settings(session: Session, school: School, *, actor: User,
                  values: dict[str, object], word_dirs: tuple[Path, ...] = ()) -> None:
    """Change the school's own settings; the event lists what changed, old → new. A new
    recurring rule flags (and scores) the children again at once."""
    changes: list[dict[str, object]] = []
    for key, value in values.items():
        old = getattr(school, key)
        if old != value:
            changes.append({"setting": key, "from": _plain(old), "to": _plain(value)})
            setattr(school, key, value)
    if changes:
        session.add(Event.by(actor, Action.SCHOOL_SETTINGS, {"changes": changes},
                             school_id=school.id))
    session.flush()
    if any(c["setting"] in ("recurring_count", "recurring_days") for c in changes):
        linking.refresh_pupils(session, school, word_dirs=word_dirs)
