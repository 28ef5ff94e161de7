"""The school roster: import a school MIS export (CSV), all or nothing, idempotent.

Anti-bullying policy: "Ensure all staff collate all reoccurring concerns regarding
individual pupils": a roster lets every report about a child meet in one chronology.

The columns (the first row names them; case, spaces and underscores do not matter):

- needed: UPN (or Admission Number, Adno, Pupil ID), Forename (or First Name, Legal
  Forename...), Surname (or Last Name, Legal Surname...);
- optional: Date of Birth (DOB), Year Group (Year, NC Year), Form (Reg Group, Class,
  Tutor Group), SEN Status (SEN, SEN Provision: N, K or E);
- optional parent and carer contacts, up to three, as SIMS, Arbor and Bromcom exports
  name them ("Keep them informed at all stages"), N being 1, 2 or 3:
  ``Contact N Name`` (or ``Contact N Full Name``, or ``Contact N Forename`` with
  ``Contact N Surname``), ``Contact N Relationship`` (or ``Relation``), ``Contact N Email``
  (or ``Email Address``), ``Contact N Phone`` (or ``Telephone``, ``Mobile``, ``Phone
  Number``), ``Contact N Priority`` (1 is called first). "Parent N" and "Carer N" may
  stand for "Contact N".

A file with contact columns replaces the contacts of every pupil in it (a pupil with
empty contact cells is left with none); a file without them leaves contacts as they are.
An optional column the file does not have leaves that detail as it is (a file without a
date of birth column clears no one's date of birth). The preview lists the columns read
and ignored, each change with its old and new value, and whose contacts would be removed.

A file saved as UTF-8 (with or without a byte order mark), UTF-16 (Excel's "Unicode
text", tab-separated) or Windows-1252 is read, with commas, tabs or semicolons between
the columns; so are Windows, Unix and old Mac line endings.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .forms import EMAIL
from .models import ParentContact, Pupil, School, SenStatus
from .models.pupil import SEN_LABELS

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
# Updated only when the file has their column (a missing column clears nothing)
OPTIONAL = ("date_of_birth", "year_group", "form", "sen_status")
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

# Parent and carer contacts: "contact 1 email", "parent 2 phone", "carer 3 name"...
CONTACTS = 3
CONTACT_FIELDS = {
    "name": ("name", "full name"),
    "forename": ("forename", "first name"),
    "surname": ("surname", "last name"),
    "relationship": ("relationship", "relation"),
    "email": ("email", "email address", "e-mail"),
    "phone": ("phone", "telephone", "mobile", "phone number", "tel"),
    "priority": ("priority", "contact priority"),
}
CONTACT_HEADER = re.compile(r"^(?:contact|parent|carer) ([1-9]) (.+)$")
PHONE = re.compile(r"^\+?[0-9 ()-]{6,24}$")


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
    # parent and carer contacts stored, when the file had contact columns (else None:
    # the pupils' contacts were left as they were)
    contacts: int | None = None
    # pupils on the roll but not in the file, taken off the roll (only when asked)
    left: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _decode(content: bytes) -> str:
    """The file's text: UTF-16 when it starts with a byte order mark (Excel's "Unicode
    text"), else UTF-8, else Windows-1252 (older SIMS exports)."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise RosterError("The file starts like UTF-16 text but is not: export it "
                              "again as CSV (UTF-8).") from None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _header_map(headers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(headers):
        name = re.sub(r"\s+", " ", raw.strip().lower().replace("_", " "))
        for key, aliases in COLUMNS.items():
            if name in aliases and key not in found:
                found[key] = index
        contact = CONTACT_HEADER.match(name)
        if contact and 1 <= int(contact.group(1)) <= CONTACTS:
            for part, aliases in CONTACT_FIELDS.items():
                key = f"contact{contact.group(1)}_{part}"
                if contact.group(2) in aliases and key not in found:
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


def _a_pupils_birthday(day: date) -> bool:
    """A date of birth a pupil can have: in the past, and within 30 years (sixth forms and
    special schools teach to 25)."""
    today = date.today()
    return date(today.year - 30, 1, 1) <= day <= today


@dataclass(frozen=True)
class ContactRow:
    """A parent or carer contact of one roster row (contact 1, 2 or 3 of the file)."""

    position: int
    name: str
    relationship: str
    email: str
    phone: str
    priority: int | None


@dataclass(frozen=True)
class RosterRow:
    upn: str
    first_name: str
    last_name: str
    date_of_birth: date | None
    year_group: str
    form: str
    sen_status: SenStatus
    contacts: tuple[ContactRow, ...] = ()


def has_contacts(columns: dict[str, int]) -> bool:
    """Whether a file's columns include any parent or carer contact column."""
    return any(key.startswith("contact") for key in columns)


def _contacts(cell: Callable[[str], str], problems: list[str]) -> tuple[ContactRow, ...]:
    """The row's contacts 1 to 3; each problem is added to ``problems`` in plain words."""
    found = []
    for n in range(1, CONTACTS + 1):
        def part(name: str, n: int = n) -> str:
            return cell(f"contact{n}_{name}")

        name = part("name") or " ".join(x for x in (part("forename"), part("surname")) if x)
        relationship, email, phone, priority = (part("relationship"), part("email"),
                                                part("phone"), part("priority"))
        if not any((name, relationship, email, phone, priority)):
            continue
        if not name:
            problems.append(f"contact {n} has details but no name")
            continue
        if len(name) > 160 or len(relationship) > 40:
            problems.append(f"contact {n}'s name or relationship is too long")
            continue
        if email and (len(email) > 254 or not EMAIL.match(email)):
            problems.append(f"contact {n}'s email '{email[:60]}' is not an email address")
            continue
        if phone and not PHONE.match(phone):
            problems.append(f"contact {n}'s phone '{phone[:30]}' is not a phone number")
            continue
        if priority and not (priority.isdigit() and 1 <= int(priority) <= 9):
            problems.append(f"contact {n}'s priority '{priority[:10]}' should be a number "
                            "from 1 to 9")
            continue
        found.append(ContactRow(n, name, relationship, email, phone,
                                int(priority) if priority else None))
    return tuple(found)


@dataclass
class Parsed:
    """A file read: its good rows, the rows to fix, and which columns were read."""

    rows: list[tuple[int, RosterRow]]
    errors: list[RowError]
    contacts_given: bool
    present: frozenset[str]  # the column keys found (COLUMNS and contactN_part)
    read_columns: list[str]  # the file's own column names that were read, in file order
    ignored_columns: list[str]  # the file's column names that mean nothing here


def parse(content: bytes | str) -> tuple[list[tuple[int, RosterRow]], list[RowError]]:
    """Read a CSV export into rows, with an error for each row that can't be used."""
    parsed = read(content)
    return parsed.rows, parsed.errors


def read(content: bytes | str) -> Parsed:
    """The file read as a roster; RosterError when it cannot be read as CSV at all (a
    spreadsheet saved in another format, a cell over the CSV reader's limit)."""
    try:
        return _read(content)
    except csv.Error as error:
        raise RosterError(f"The file can't be read as CSV ({error}): export it from your MIS "
                          "as CSV again.") from None


def _read(content: bytes | str) -> Parsed:
    text = _decode(content) if isinstance(content, bytes) else content.lstrip("\ufeff")
    if "\x00" in text:
        raise RosterError("The file is not CSV text: export it from your MIS as CSV.")
    # newline=None: Windows, Unix and old Mac (CR only) line endings all end a row. The
    # separator is the header row's commonest of comma, tab (Excel's "Unicode text") and
    # semicolon (Excel where the comma is the decimal mark).
    header = text.splitlines()[0] if text else ""
    delimiter = max((",", "\t", ";"), key=header.count)
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        raise RosterError("The file is empty.") from None
    columns = _header_map(headers)
    used = set(columns.values())
    read_columns = [h.strip() for i, h in enumerate(headers) if i in used]
    ignored = [h.strip() for i, h in enumerate(headers) if i not in used and h.strip()]
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

        problems: list[str] = []
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
            problems.append(str(error)[:80])
            dob = None
        if dob is not None and not _a_pupils_birthday(dob):
            problems.append(f"the date of birth {dob:%d/%m/%Y} is not a pupil's")
        for key, words in (("year_group", "year"), ("form", "form")):
            if len(cell(key)) > 30:
                problems.append(f"the {words} is longer than 30 characters")
        sen_text = cell("sen_status").lower()
        sen = SEN_VALUES.get(sen_text)
        if sen is None:
            problems.append(f"SEN status '{cell('sen_status')[:20]}' should be N, K (SEN "
                            "support) or E (EHC plan)")
        contacts = _contacts(cell, problems)
        if problems:
            errors.append(RowError(line, "; ".join(problems)))
            continue
        seen[upn.upper()] = line
        rows.append((line, RosterRow(upn.upper(), first, last, dob, cell("year_group")[:30],
                                     cell("form")[:30], sen or SenStatus.NONE, contacts)))
    return Parsed(rows, errors, has_contacts(columns), frozenset(columns), read_columns,
                  ignored)


def _values(row: RosterRow, present: frozenset[str] | None = None) -> dict[str, object]:
    """What the row sets on a pupil: every field for a new pupil (``present`` None); for a
    known one only the names and the optional details whose column the file has."""
    values: dict[str, object] = {"first_name": row.first_name, "last_name": row.last_name}
    for key in OPTIONAL:
        if present is None or key in present:
            values[key] = getattr(row, key)
    values["on_roll"] = True
    return values


FIELD_WORDS = {"first_name": "first name", "last_name": "surname",
               "date_of_birth": "date of birth", "year_group": "year", "form": "form",
               "sen_status": "SEN status", "on_roll": "back on the roll"}


def _shown(value: object) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, SenStatus):
        return SEN_LABELS[value]
    return str(value)


def _change_words(pupil: Pupil, values: dict[str, object]) -> list[str]:
    """Each detail that changes, old to new: "form 5B to 6R"."""
    words = []
    for key, new in values.items():
        old = getattr(pupil, key)
        if old == new:
            continue
        if key == "on_roll":
            words.append(FIELD_WORDS[key])
        else:
            words.append(f"{FIELD_WORDS[key]} {_shown(old)} to {_shown(new)}")
    return words


@dataclass
class Preview:
    """What importing a file would do, before anything is written (the roster page's
    upload shows it, then asks to confirm)."""

    added: list[RosterRow] = field(default_factory=list)
    changed: list[tuple[Pupil, RosterRow, list[str]]] = field(default_factory=list)
    unchanged: int = 0
    # on the roll now, not in the file: they stay unless the import takes them off
    missing: list[Pupil] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    contacts_given: bool = False
    read_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    # details the file has no column for: left as they are
    kept_details: list[str] = field(default_factory=list)
    # pupils in the file who have contacts now and would have none (a file with contact
    # columns replaces them), and how many others' contacts change
    contacts_removed: list[Pupil] = field(default_factory=list)
    # each other pupil whose contacts change, with every change in words
    contact_changes: list[tuple[Pupil, list[str]]] = field(default_factory=list)
    # contact details the file has no column for: a file with contact columns replaces
    # every contact, so these are removed from every contact that has them
    contact_details_missing: list[str] = field(default_factory=list)

    @property
    def contacts_changed(self) -> int:
        return len(self.contact_changes)


def _contact_key(c: ParentContact | ContactRow) -> tuple[object, ...]:
    return (c.position, c.name, c.relationship, c.email, c.phone, c.priority)


CONTACT_WORDS = ("name", "relationship", "email", "phone", "priority")


def _contact_change_words(before: dict[int, tuple[object, ...]],
                          after: dict[int, tuple[object, ...]]) -> list[str]:
    """Each change to a pupil's contacts, in words: "contact 1's email a@b.uk removed"."""
    words = []
    for n in sorted(before.keys() | after.keys()):
        old, new = before.get(n), after.get(n)
        if old == new:
            continue
        if new is None:
            words.append(f"contact {n} ({old[1] if old else ''}) removed")
        elif old is None:
            words.append(f"contact {n} ({new[1]}) added")
        else:
            for label, was, now in zip(CONTACT_WORDS, old[1:], new[1:], strict=True):
                if was == now:
                    continue
                if now in (None, ""):
                    words.append(f"contact {n}'s {label} {was} removed")
                else:
                    words.append(f"contact {n}'s {label} {_shown(was)} to {now}")
    return words


def preview(session: Session, school: School, content: bytes | str) -> Preview:
    """What ``import_roster`` would add, change and leave, reading only (RosterError for a
    file that is not a roster at all)."""
    parsed = read(content)
    result = Preview(errors=parsed.errors, contacts_given=parsed.contacts_given,
                     read_columns=parsed.read_columns, ignored_columns=parsed.ignored_columns,
                     kept_details=[FIELD_WORDS[k] for k in OPTIONAL
                                   if k not in parsed.present])
    if parsed.contacts_given:
        result.contact_details_missing = [
            part for part in ("relationship", "email", "phone")
            if not any(f"contact{n}_{part}" in parsed.present for n in range(1, CONTACTS + 1))]
    if parsed.errors:
        return result
    existing = {p.upn: p
                for p in session.scalars(select(Pupil).where(Pupil.school_id == school.id))}
    in_file = set()
    known: list[tuple[Pupil, RosterRow]] = []
    for _line, row in parsed.rows:
        in_file.add(row.upn)
        pupil = existing.get(row.upn)
        if pupil is None:
            result.added.append(row)
            continue
        known.append((pupil, row))
        changes = _change_words(pupil, _values(row, parsed.present))
        if changes:
            result.changed.append((pupil, row, changes))
        else:
            result.unchanged += 1
    if parsed.contacts_given and known:
        now: dict[int, list[tuple[object, ...]]] = {}
        ids = [pupil.id for pupil, _row in known]
        for start in range(0, len(ids), 500):
            for c in session.scalars(select(ParentContact).where(
                    ParentContact.pupil_id.in_(ids[start:start + 500]))):
                now.setdefault(c.pupil_id, []).append(_contact_key(c))
        for pupil, row in known:
            before = {int(str(k[0])): k for k in now.get(pupil.id, [])}
            after = {c.position: _contact_key(c) for c in row.contacts}
            if before and not after:
                result.contacts_removed.append(pupil)
            elif before != after:
                result.contact_changes.append((pupil, _contact_change_words(before, after)))
    result.missing = sorted((p for upn, p in existing.items()
                             if upn not in in_file and p.on_roll),
                            key=lambda p: (p.last_name.lower(), p.first_name.lower()))
    return result


def import_roster(session: Session, school: School, content: bytes | str, *,
                  leavers_off_roll: bool = False) -> ImportResult:
    """Add new pupils and update known ones (matched on UPN); with ``leavers_off_roll``, a
    pupil on the roll who is not in the file is taken off it (a whole-school export: they
    have left). Nothing is written when any row is bad: the result lists every bad row,
    and the caller rolls back."""
    parsed = read(content)
    rows, contacts_given = parsed.rows, parsed.contacts_given
    result = ImportResult(errors=parsed.errors)
    if parsed.errors:
        return result
    existing = {p.upn: p
                for p in session.scalars(select(Pupil).where(Pupil.school_id == school.id))}
    for _line, row in rows:
        pupil = existing.get(row.upn)
        if pupil is None:
            session.add(Pupil(school_id=school.id, upn=row.upn, **_values(row)))
            result.added += 1
            continue
        values = _values(row, parsed.present)
        if any(getattr(pupil, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(pupil, key, value)
            result.updated += 1
        else:
            result.unchanged += 1
    if leavers_off_roll:
        in_file = {row.upn for _line, row in rows}
        for upn, pupil in existing.items():
            if upn not in in_file and pupil.on_roll:
                pupil.on_roll = False  # kept, with their chronology: only off the roll
                result.left += 1
    session.flush()
    if contacts_given:
        result.contacts = _replace_contacts(session, school, rows)
    return result


def _replace_contacts(session: Session, school: School,
                      rows: list[tuple[int, RosterRow]]) -> int:
    """Give every pupil in the file exactly the file's contacts (all rows of one
    transaction: the caller rolls back if anything fails). Returns how many are stored."""
    by_upn = {p.upn: p.id
              for p in session.scalars(select(Pupil).where(Pupil.school_id == school.id))}
    ids = [by_upn[row.upn] for _line, row in rows]
    for start in range(0, len(ids), 500):  # under every database's parameter limit
        session.execute(delete(ParentContact)
                        .where(ParentContact.pupil_id.in_(ids[start:start + 500])))
    stored = [ParentContact(pupil_id=by_upn[row.upn], position=c.position, priority=c.priority,
                            name=c.name, relationship=c.relationship, email=c.email,
                            phone=c.phone)
              for _line, row in rows for c in row.contacts]
    session.add_all(stored)
    session.flush()
    return len(stored)
