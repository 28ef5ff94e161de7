"""The school roster: import a school MIS export (CSV), all or nothing, idempotent.

Anti-bullying policy: "Ensure all staff collate all reoccurring concerns regarding
individual pupils": a roster lets every report about a child meet in one chronology.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Pupil, School, SenStatus

# Column names as the common MIS exports spell them (SIMS, Arbor, Bromcom, ScholarPack).
COLUMNS = {
    "upn": ("upn", "admission number", "adno", "admission no", "pupil id"),
    "first_name": ("first name", "forename", "legal forename", "preferred forename",
                   "firstname", "given name"),
    "last_name": ("last name", "surname", "legal surname", "preferred surname", "lastname",
                  "family name"),
    "date_of_birth": ("date of birth", "dob", "birth date"),
    "year_group": ("year group", "year", "nc year", "year taught in", "curriculum year"),
    "form": ("form", "reg group", "registration group", "class", "tutor group"),
    "sen_status": ("sen status", "sen", "sen provision", "send", "sen stage"),
}
REQUIRED = ("upn", "first_name", "last_name")
REQUIRED_NAMES = {"upn": "UPN (or Admission Number)", "first_name": "Forename",
                  "last_name": "Surname"}
SEN_VALUES = {
    "": SenStatus.NONE, "n": SenStatus.NONE, "no": SenStatus.NONE, "none": SenStatus.NONE,
    "no sen": SenStatus.NONE,
    "k": SenStatus.SEN_SUPPORT, "sen support": SenStatus.SEN_SUPPORT,
    "support": SenStatus.SEN_SUPPORT,
    "e": SenStatus.EHC_PLAN, "ehc": SenStatus.EHC_PLAN, "ehcp": SenStatus.EHC_PLAN,
    "ehc plan": SenStatus.EHC_PLAN, "statement": SenStatus.EHC_PLAN, "s": SenStatus.EHC_PLAN,
}
UPN = re.compile(r"^[A-Za-z0-9-]{1,20}$")
MAX_ROWS = 20000


class RosterError(ValueError):
    """The file can't be read as a roster at all (wrong columns, not CSV, too big)."""


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _header_map(headers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(headers):
        name = re.sub(r"\s+", " ", raw.strip().lower().replace("_", " "))
        for key, aliases in COLUMNS.items():
            if name in aliases and key not in found:
                found[key] = index
    missing = [k for k in REQUIRED if k not in found]
    if missing:
        wanted = " or ".join(REQUIRED_NAMES[k] for k in missing)
        raise RosterError(f"The file has no {wanted} column. The first row must name the "
                          "columns (UPN or Admission Number, Forename, Surname, ...).")
    return found


def parse_date(text: str) -> date | None:
    """A date as MIS exports write it: 31/01/2015, 2015-01-31 or 31-01-2015."""
    text = text.strip()
    if not text:
        return None
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date like 31/01/2015")


@dataclass(frozen=True)
class RosterRow:
    upn: str
    first_name: str
    last_name: str
    date_of_birth: date | None
    year_group: str
    form: str
    sen_status: SenStatus


def parse(content: bytes | str) -> tuple[list[tuple[int, RosterRow]], list[RowError]]:
    """Read a CSV export into rows, with an error for each row that can't be used."""
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("cp1252", errors="replace")
    else:
        text = content.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        headers = next(reader)
    except StopIteration:
        raise RosterError("The file is empty.") from None
    columns = _header_map(headers)
    rows: list[tuple[int, RosterRow]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, record in enumerate(reader, start=2):
        if line > MAX_ROWS + 1:
            raise RosterError(f"The file has more than {MAX_ROWS} pupils.")
        if not any(cell.strip() for cell in record):
            continue

        def cell(key: str, record: list[str] = record) -> str:
            index = columns.get(key)
            return record[index].strip() if index is not None and index < len(record) else ""

        problems = []
        upn = cell("upn")
        if not UPN.match(upn):
            problems.append("the UPN or admission number is missing or has odd characters")
        elif upn.upper() in seen:
            problems.append(f"the same UPN is also on line {seen[upn.upper()]}")
        first, last = cell("first_name"), cell("last_name")
        if not first or not last:
            problems.append("the first name or surname is missing")
        if len(first) > 80 or len(last) > 80:
            problems.append("a name is longer than 80 characters")
        try:
            dob = parse_date(cell("date_of_birth"))
        except ValueError as error:
            problems.append(str(error))
            dob = None
        sen_text = cell("sen_status").lower()
        sen = SEN_VALUES.get(sen_text)
        if sen is None:
            problems.append(f"SEN status '{cell('sen_status')}' should be N, K (SEN support) "
                            "or E (EHC plan)")
        if problems:
            errors.append(RowError(line, "; ".join(problems)))
            continue
        seen[upn.upper()] = line
        rows.append((line, RosterRow(upn.upper(), first, last, dob, cell("year_group")[:30],
                                     cell("form")[:30], sen or SenStatus.NONE)))
    return rows, errors


def import_roster(session: Session, school: School, content: bytes | str) -> ImportResult:
    """Add new pupils and update known ones (matched on UPN). Nothing is written when any
    row is bad: the result lists every bad row, and the caller rolls back."""
    rows, errors = parse(content)
    result = ImportResult(errors=errors)
    if errors:
        return result
    existing = {p.upn: p
                for p in session.scalars(select(Pupil).where(Pupil.school_id == school.id))}
    for _line, row in rows:
        pupil = existing.get(row.upn)
        values = {"first_name": row.first_name, "last_name": row.last_name,
                  "date_of_birth": row.date_of_birth, "year_group": row.year_group,
                  "form": row.form, "sen_status": row.sen_status, "on_roll": True}
        if pupil is None:
            session.add(Pupil(school_id=school.id, upn=row.upn, **values))
            result.added += 1
        elif any(getattr(pupil, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(pupil, key, value)
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()
    return result
