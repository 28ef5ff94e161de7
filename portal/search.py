"""Search across a school's reports without decrypting the table: a keyed blind index.

Issue 14, "Finding things": "Search across the school's reports for a name or a word ('has
anyone mentioned Harry before?'), which is how DSLs spot a pattern about someone not on the
roster." Report text is encrypted at rest (SECURITY P13), so the database can't search it.
Instead each distinct word of a report is kept as a *term*: the first 8 bytes of
HMAC-SHA-256 of the normalised word under the school's search key, a key derived (HKDF) from
the data key with the label "tell-us-search" and the school's id. The same word has
different terms in two schools, and without the data key nobody can work out the term of a
word they guess. What a copied database still shows through the index is written down in
docs/security.md ("What the search index reveals").

What is indexed (``report_texts``): what the reporter wrote (what happened, who was
involved, their name and class, the child's and the parent's names, since when), the
reporter's follow-up messages, the DSL team's notes, and what the DSL records about the
people involved (``CASEWORK``: the names of the pupils linked, what is known of someone
not on the roster, interviews, what a child wants to happen, support and sanction notes),
so that "has anyone mentioned Harry before?" finds a party recorded after the report.
Nothing else: not the contact email or phone, not the trusted adult chosen, not checklist
or action notes.

Collisions: two different words of one school share a term with probability about
V² / 2⁶⁵ for V distinct words (a school with a million distinct words: 3 in 100 million).
A collision can only add a report to the results; it never hides one.

The index is written in the same transaction as the text (the reporting operations, the
reporter's messages, notes; ``bulk_rows`` for ``portal seed``), deleted with the report
(``forget``, the retention purge) and rebuilt by ``portal rotate-key`` and
``portal search-reindex`` (``rebuild``). No Flask here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, Select, Table, and_, delete, exists, func, insert, select
from sqlalchemy.orm import Session, aliased, load_only

from . import crypto
from .events import Action
from .models import Event, Message, Report, School, SearchTerm, Sender, User

PAGE_SIZE = 25
# The count shown stops here ("more than 100 reports"): counting further costs time and
# tells a DSL nothing they can act on.
COUNT_LIMIT = 100
QUERY_LIMIT = 200  # characters
MAX_WORDS = 8
MAX_PAGE = 400
EXCERPT_WORDS = 24
MIN_LETTERS = 2

# Words too common to find anything by. They are not indexed, because they would only make
# the index bigger and slower, and because they are the easiest words to recognise from
# their frequency in a stolen database (docs/security.md). A query's common words are
# left out and the page says so. Names that are also words ("Will", "May") are not here.
STOP_WORDS = frozenset((  # noqa: SIM905 - a word list wraps
    "a an and are as at be been but by did do does for from had has have he her hers him his "
    "i if in into is it its me my of on or our she so than that the their them then there "
    "they this to too was we were what when which who with you your").split())

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


class SearchError(ValueError):
    """A query that can't be searched for, with the reason in plain words."""


def _fold(text: str) -> str:
    """NFKC, casefold, accents off: "Zoë", "ZOE" and "ｚｏｅ" all give "zoe"."""
    if text.isascii():
        return text.lower()  # the same, much faster: most text is plain ASCII
    folded = unicodedata.normalize("NFKC", text).casefold()
    stripped = "".join(c for c in unicodedata.normalize("NFD", folded)
                       if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def _word(raw: str) -> str | None:
    word = raw.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]  # possessive: "Harry's" is "harry"
    word = word.replace("'", "")  # "don't" and "dont" are one word
    if len(word) < MIN_LETTERS or word in STOP_WORDS:
        return None
    return word


def words(text: str) -> list[str]:
    """The normalised words of ``text`` worth indexing, in order (repeats kept)."""
    found = []
    for match in _WORD.finditer(_fold(text)):
        word = _word(match.group())
        if word is not None:
            found.append(word)
    return found


def spans(text: str) -> list[tuple[str, str | None]]:
    """``text`` cut into pieces, each with its normalised word (None between words): what
    the excerpt marks. Folding changes no lengths that matter here, as it runs per word."""
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for match in _WORD.finditer(text):
        if match.start() > at:
            pieces.append((text[at:match.start()], None))
        folded = "".join(_WORD.findall(_fold(match.group())))
        pieces.append((match.group(), _word(folded) if folded else None))
        at = match.end()
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces


@lru_cache(maxsize=256)
def _school_key(data_key: bytes, school_id: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"tell-us-search:" + str(school_id).encode()).derive(data_key)


def term(word: str, school_id: int, key: bytes | None = None) -> int:
    """The term of a normalised word in a school: 64 bits of HMAC-SHA-256, signed (the
    column is a BIGINT)."""
    data_key = crypto.keyring().current if key is None else key
    digest = hmac.new(_school_key(data_key, school_id), word.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def terms(texts: Iterable[str], school_id: int, key: bytes | None = None) -> set[int]:
    """The distinct terms of all of ``texts``."""
    return {term(w, school_id, key) for text in texts for w in set(words(text))}


TEXT_FIELDS = ("body", "people_involved", "reporter_name", "reporter_class", "child_name",
               "parent_name", "since_when")


def report_texts(report: Report) -> list[str]:
    """What the reporter wrote, as indexed (see the module's docstring)."""
    return [getattr(report, name) or "" for name in TEXT_FIELDS]


def _add(session: Session, report: Report, found: set[int], *, fresh: bool) -> None:
    if not found:
        return
    if not fresh:  # leave out the terms the report already has (one primary-key probe each)
        found -= set(session.scalars(select(SearchTerm.term).where(
            SearchTerm.school_id == report.school_id, SearchTerm.term.in_(sorted(found)),
            SearchTerm.created_at == report.created_at, SearchTerm.report_id == report.id)))
    if found:
        session.execute(insert(SearchTerm), [
            {"school_id": report.school_id, "term": t, "created_at": report.created_at,
             "report_id": report.id} for t in sorted(found)])


def index_report(session: Session, report: Report) -> None:
    """Index a new report's words (it has no terms yet). The report must be flushed."""
    _add(session, report, terms(report_texts(report), report.school_id), fresh=True)


def index_text(session: Session, report: Report, text: str) -> None:
    """Add the words of a message or a note to its report's terms."""
    _add(session, report, terms([text], report.school_id), fresh=False)


def forget(session: Session, report_id: int) -> None:
    """Delete a report's terms (the retention purge deletes the report)."""
    session.execute(delete(SearchTerm).where(SearchTerm.report_id == report_id))


def bulk_rows(school_id: int, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Index rows for reports inserted in bulk (``portal seed``): ``rows`` are the reports'
    column values, with their ids. The seed's texts repeat, so their terms are cached."""
    cache: dict[tuple[str, ...], set[int]] = {}
    out: list[dict[str, Any]] = []
    for row in rows:
        texts = tuple(str(row.get(name) or "") for name in TEXT_FIELDS)
        found = cache.get(texts)
        if found is None:
            found = cache[texts] = terms(texts, school_id)
        out.extend({"school_id": school_id, "term": t, "created_at": row["created_at"],
                    "report_id": row["id"]} for t in found)
    return out


# --- rebuilding --------------------------------------------------------------------------


_NOTES = (Action.NOTE_ADDED.value,)


def _casework_texts(connection: Connection, chunk: list[int]) -> Iterable[tuple[int, str]]:
    """(report id, text) of what the DSL recorded about the people involved in each report of
    ``chunk``: linked pupils' names, descriptions of people not on the roster, interviews,
    wishes, support notes (the words ``index_text`` added as they were recorded)."""
    from .models import PartyInterview, PartySupport, PartyVoice, Pupil, ReportPupil

    parties, pupils = (cast(Table, m.__table__) for m in (ReportPupil, Pupil))
    for rid, description, first, last in connection.execute(
            select(parties.c.report_id, parties.c.description, pupils.c.first_name,
                   pupils.c.last_name)
            .select_from(parties.outerjoin(pupils, pupils.c.id == parties.c.pupil_id))
            .where(parties.c.report_id.in_(chunk))):  # unlinked too: as indexed when linked
        yield rid, " ".join(str(v or "") for v in (description, first, last))
    interviews, voices, support = (cast(Table, m.__table__)
                                   for m in (PartyInterview, PartyVoice, PartySupport))
    for rid, account, present in connection.execute(
            select(interviews.c.report_id, interviews.c.account, interviews.c.present)
            .where(interviews.c.report_id.in_(chunk))):
        yield rid, f"{account or ''} {present or ''}"
    for rid, wants in connection.execute(select(voices.c.report_id, voices.c.wants)
                                         .where(voices.c.report_id.in_(chunk))):
        yield rid, str(wants or "")
    for rid, note in connection.execute(select(support.c.report_id, support.c.note)
                                        .where(support.c.report_id.in_(chunk))):
        yield rid, str(note or "")
_BATCH = 500


def rebuild(connection: Connection, school_id: int | None = None) -> int:
    """Work out every term again under the current key, in the caller's transaction (all of
    it or none: ``portal rotate-key`` runs it in its own). Returns the reports indexed."""
    # Core on the tables' own columns (as portal.rotation): the ORM's annotated encrypted
    # columns refuse the comparison a cached Core result makes of its columns.
    reports, messages, events = (cast(Table, model.__table__) for model in (Report, Message, Event))
    schools = [school_id] if school_id is not None else list(
        connection.scalars(select(School.id).order_by(School.id)))
    indexed = 0
    for sid in schools:
        connection.execute(delete(SearchTerm).where(SearchTerm.school_id == sid))
        ids = list(connection.scalars(select(reports.c.id).where(reports.c.school_id == sid)
                                      .order_by(reports.c.id)))
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start:start + _BATCH]
            texts: dict[int, list[str]] = {}
            moments: dict[int, datetime] = {}
            for row in connection.execute(select(
                    reports.c.id, reports.c.created_at, reports.c.body,
                    reports.c.people_involved, reports.c.reporter_name,
                    reports.c.reporter_class, reports.c.child_name, reports.c.parent_name,
                    reports.c.since_when).where(reports.c.id.in_(chunk))):
                texts[row[0]] = [str(v or "") for v in row[2:]]
                moments[row[0]] = row[1]
            for rid, body in connection.execute(select(messages.c.report_id, messages.c.body)
                                                .where(messages.c.report_id.in_(chunk),
                                                       messages.c.sender == Sender.REPORTER)):
                texts[rid].append(body or "")
            for rid, payload in connection.execute(select(events.c.report_id, events.c.payload)
                                                   .where(events.c.report_id.in_(chunk),
                                                          events.c.action.in_(_NOTES))):
                if rid is not None and rid in texts:
                    texts[rid].append(str(payload.get("note", "")))
            for rid, text in _casework_texts(connection, chunk):
                texts[rid].append(text)
            rows = [{"school_id": sid, "term": t, "created_at": moments[rid], "report_id": rid}
                    for rid in chunk for t in sorted(terms(texts[rid], sid))]
            if rows:
                connection.execute(insert(SearchTerm), rows)
            indexed += len(chunk)
    return indexed


# --- searching ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A query as searched: its words, and the common words left out of it."""

    text: str
    words: tuple[str, ...]
    ignored: tuple[str, ...] = ()


def parse(text: str) -> Query:
    """The words to look for; SearchError with the reason if there are none or too many."""
    text = text.strip()
    if not text:
        raise SearchError("Type a name or a word to search for.")
    if len(text) > QUERY_LIMIT:
        raise SearchError(f"Search for at most {QUERY_LIMIT} characters at once. "
                          f"You typed {len(text)}.")
    every = [w for w in (m.group() for m in _WORD.finditer(_fold(text)))]
    chosen: list[str] = []
    ignored: list[str] = []
    for raw in every:
        word = _word(raw)
        if word is None:
            ignored.append(raw)
        elif word not in chosen:
            chosen.append(word)
    if not chosen:
        raise SearchError("Those words are too short or too common to search for. Type a "
                          "name or a word of at least two letters, such as “Harry”.")
    if len(chosen) > MAX_WORDS:
        raise SearchError(f"Search for at most {MAX_WORDS} words at once. "
                          f"You typed {len(chosen)}.")
    return Query(text, tuple(chosen), tuple(dict.fromkeys(ignored)))


# How far the look-up counts each word's reports to choose which to read first.
RARITY_PROBE = 2_000


def rarest_first(session: Session, school_id: int, found: list[int]) -> list[int]:
    """The terms, the one in fewest reports first (each counted only up to RARITY_PROBE,
    in one statement): the look-up reads the first one's rows and probes the others."""
    if len(found) < 2:
        return found
    counts = [select(func.count()).select_from(
        select(SearchTerm.report_id).where(SearchTerm.school_id == school_id,
                                           SearchTerm.term == t)
        .limit(RARITY_PROBE).subquery()).scalar_subquery() for t in found]
    sizes = session.execute(select(*counts)).one()
    return [t for _n, t in sorted(zip(sizes, found, strict=True), key=lambda pair: pair[0])]


def matching(school_id: int, query: Query, found: list[int] | None = None
             ) -> Select[int, datetime]:
    """Reports of the school with every word of ``query`` (AND), newest first: the first
    term's rows read in index order, each further term checked by a primary-key probe.
    ``found`` gives the terms in the order to use (rarest_first); else the query's."""
    if found is None:
        found = [term(w, school_id) for w in query.words]
    first = aliased(SearchTerm, name="t0")
    statement = select(first.report_id, first.created_at).where(
        first.school_id == school_id, first.term == found[0])
    for n, other_term in enumerate(found[1:], start=1):
        other = aliased(SearchTerm, name=f"t{n}")
        statement = statement.where(exists().where(and_(
            other.school_id == school_id, other.term == other_term,
            other.created_at == first.created_at, other.report_id == first.report_id)))
    return statement.order_by(first.created_at.desc(), first.report_id.desc())


@dataclass
class Hit:
    """One report found: the report and the excerpt, as (text, marked) pieces."""

    report: Report
    excerpt: list[tuple[str, bool]]
    where: str


@dataclass
class Results:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    count: int = 0  # up to COUNT_LIMIT + 1 ("more than 100")
    page: int = 1
    has_next: bool = False

    @property
    def more_than_limit(self) -> bool:
        return self.count > COUNT_LIMIT


def search(session: Session, actor: User, text: str, page: int = 1) -> Results:
    """Search the actor's school (the DSL team only), record who searched for what
    (``search.run``: the query, encrypted like every payload, and the number of results),
    and load only the page of reports shown."""
    if not actor.reads_reports or actor.school_id is None:
        raise PermissionError("Only the DSL team searches reports.")
    query = parse(text)
    page = min(max(page, 1), MAX_PAGE)
    school_id = actor.school_id
    found = rarest_first(session, school_id, [term(w, school_id) for w in query.words])
    # One read gives the page, whether there is a next one, and the bounded count: the ids
    # up to the page's end plus one, and at least COUNT_LIMIT + 1 of them.
    offset = (page - 1) * PAGE_SIZE
    every = [row[0] for row in session.execute(
        matching(school_id, query, found).limit(max(COUNT_LIMIT + 1, offset + PAGE_SIZE + 1)))]
    count = min(len(every), COUNT_LIMIT + 1)
    has_next = len(every) > offset + PAGE_SIZE
    ids = every[offset:offset + PAGE_SIZE]
    session.add(Event.by(actor, Action.SEARCH_RUN, {"query": query.text, "results": count},
                         school_id=school_id))
    results = Results(query, count=count, page=page, has_next=has_next)
    if not ids:
        session.flush()
        return results
    # Only the columns the page shows: the others (contact details...) stay sealed.
    shown = load_only(Report.id, Report.school_id, Report.created_at, Report.status,
                      Report.source, *(getattr(Report, name) for name in TEXT_FIELDS))
    reports = {r.id: r for r in session.scalars(
        select(Report).where(Report.id.in_(ids), Report.school_id == school_id)
        .options(shown))}
    extra: dict[int, list[tuple[str, str]]] = {rid: [] for rid in ids}
    for rid, body in session.execute(select(Message.report_id, Message.body).where(
            Message.report_id.in_(ids), Message.sender == Sender.REPORTER)
            .order_by(Message.created_at, Message.id)):
        extra[rid].append(("Reporter's message", body or ""))
    for rid, payload in session.execute(select(Event.report_id, Event.payload).where(
            Event.report_id.in_(ids), Event.action.in_(_NOTES))
            .order_by(Event.created_at, Event.id)):
        if rid is not None:
            extra[rid].append(("Note", str(payload.get("note", ""))))
    wanted = set(query.words)
    for rid in ids:
        report = reports.get(rid)
        if report is None:
            continue
        where, excerpt = _excerpt(_labelled(report) + extra[rid], wanted)
        results.hits.append(Hit(report, excerpt, where))
    session.flush()
    return results


def _labelled(report: Report) -> list[tuple[str, str]]:
    names = ("What happened", "Who was involved", "Reporter's name", "Reporter's class",
             "Child's name", "Parent's name", "Since when")
    return list(zip(names, report_texts(report), strict=True))


def _excerpt(texts: list[tuple[str, str]], wanted: set[str]) -> tuple[str, list[tuple[str, bool]]]:
    """The first text with a word searched for, cut to about EXCERPT_WORDS words around
    the first match, with every searched word marked."""
    for label, text in texts:
        if wanted.isdisjoint(words(text)):
            continue
        pieces = spans(text)
        if not any(w in wanted for _t, w in pieces):
            continue
        at = [i for i, (t, _w) in enumerate(pieces) if _WORD.match(t)]  # the words' places
        first = next(n for n, i in enumerate(at) if pieces[i][1] in wanted)
        start = at[max(0, first - EXCERPT_WORDS // 3)]
        end = at[min(len(at) - 1, first + EXCERPT_WORDS * 2 // 3)] + 1
        if end > at[-1]:
            end = len(pieces)  # to the end, with the last full stop
        cut = [(re.sub(r"\s+", " ", t), w is not None and w in wanted)
               for t, w in pieces[start:end]]
        if start > 0:
            cut.insert(0, ("… ", False))
        if end <= at[-1]:
            cut.append((" …", False))
        return label, cut
    label, text = texts[0]
    every = text.split()
    short = " ".join(every[:EXCERPT_WORDS]) + (" …" if len(every) > EXCERPT_WORDS else "")
    return label, [(short, False)]


__all__ = ["COUNT_LIMIT", "PAGE_SIZE", "QUERY_LIMIT", "Hit", "Query", "Results", "SearchError",
           "bulk_rows", "forget", "index_report", "index_text", "matching", "parse",
           "rebuild", "report_texts", "search", "spans", "term", "terms", "words"]
