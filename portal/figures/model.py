"""What a figures page, its PDF and its CSV show: tables of counts, with the small-number
rule already applied, so no page can show a number the rule withholds. No Flask here.

The small-number rule (issue 15, written down in docs/figures.md):

1. A count from 1 to 4 in a row that could point at a child (a year group, SEND, a rare
   kind: every prejudice-based kind and sexual harassment, children named in several
   reports, reporters who did not feel safe, "is it better now?" answers) reads
   "fewer than 5". Nought reads 0: it points at nobody.
2. Where a table's rows add up to a number shown elsewhere (SEND yes / no / no pupil
   linked adds up to the reports of the period), one hidden count could be worked out by
   subtraction. So when a column of such a table hides exactly one count, the smallest
   other count above nought in it is withheld too ("not shown").
3. A share (per cent) of a hidden count is not shown.
4. In the trust view a trust total of such a row is the sum of the schools' counts: when a
   school's count in it is hidden, the trust total of the row is withheld too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

SMALL = 5
FEWER = f"fewer than {SMALL}"
WITHHELD = "not shown"


@dataclass(frozen=True)
class Cell:
    value: int | None  # None: hidden by the small-number rule
    shown: str

    @property
    def hidden(self) -> bool:
        return self.value is None

    @classmethod
    def of(cls, value: int, *, protected: bool) -> Cell:
        if protected and 0 < value < SMALL:
            return cls(None, FEWER)
        return cls(value, f"{value:,}")

    def withheld(self) -> Cell:
        return self if self.hidden else Cell(None, WITHHELD)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    now: Cell
    last_year: Cell
    raw: tuple[int, int] = (0, 0)  # the counts before the rule: never leaves this module
    protected: bool = False

    def share(self, total: int, *, last_year: bool = False) -> str:
        """The row's part of ``total`` as a whole per cent, unless its count is hidden."""
        cell = self.last_year if last_year else self.now
        if cell.hidden or cell.value is None or not total:
            return ""
        return f"{round(100 * cell.value / total)}%"


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    description: str
    rows: tuple[Row, ...]
    # True when the rows add up to a number shown or known elsewhere (rule 2 applies).
    partition: bool = False
    chart: bool = True
    unit: str = "reports"
    # True when the rows add up to the period's reports: each row's share of them is shown.
    shares: bool = False

    @property
    def hides_anything(self) -> bool:
        return any(r.now.hidden or r.last_year.hidden for r in self.rows)

    @property
    def largest(self) -> int:
        return max([r.now.value or 0 for r in self.rows] +
                   [r.last_year.value or 0 for r in self.rows] + [0])


def make_table(key: str, title: str, description: str,
               rows: Sequence[tuple[str, str, int, int, bool]], *, partition: bool = False,
               chart: bool = True, unit: str = "reports", shares: bool | None = None) -> Table:
    """A table from (key, label, count now, count last year, protected) with the rule
    applied: rule 1 to each protected count, rule 2 to each column of a partition."""
    built = [Row(k, label, Cell.of(now, protected=p), Cell.of(last, protected=p),
                 (now, last), p) for k, label, now, last, p in rows]
    if partition:
        for column in ("now", "last_year"):
            index = 0 if column == "now" else 1
            hidden = [r for r in built if getattr(r, column).hidden]
            if len(hidden) == 1:
                others = [r for r in built if not getattr(r, column).hidden
                          and r.raw[index] > 0]
                if others:
                    victim = min(others, key=lambda r: (r.raw[index], r.key))
                    built = [replace(r, **{column: getattr(r, column).withheld()})
                             if r is victim else r for r in built]
    return Table(key, title, description, tuple(built), partition, chart, unit,
                 partition if shares is None else shares)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def last_year(self) -> Period:
        start, end = _year_before(self.start), _year_before(self.end)
        label = (self.label.replace(str(self.start.year), str(start.year), 1)
                 if self.label.startswith(TERM_NAMES) else span_label(start, end))
        return Period(start, end, label)


TERM_NAMES = ("Autumn term", "Spring term", "Summer term")


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def span_label(start: date, end: date) -> str:
    return f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"


def term_of(today: date) -> Period:
    """The school term ``today`` is in: autumn (1 September to 31 December), spring
    (1 January to 31 March) or summer (1 April to 31 August); holidays belong to the term
    they follow, so no day is outside every term."""
    year = today.year
    if today.month >= 9:
        return Period(date(year, 9, 1), date(year, 12, 31), f"Autumn term {year}")
    if today.month <= 3:
        return Period(date(year, 1, 1), date(year, 3, 31), f"Spring term {year}")
    return Period(date(year, 4, 1), date(year, 8, 31), f"Summer term {year}")


def previous_term(period: Period) -> Period:
    return term_of(period.start - timedelta(days=1))


@dataclass(frozen=True)
class Figures:
    """One school's (or a trust's totals') figures for a period and the year before."""

    scope: str  # the school's (or trust's) name
    slug: str  # the school's slug, or "" for trust totals
    period: Period
    comparison: Period
    total: Row
    tables: tuple[Table, ...]
    roll: int | None = None  # pupils on roll, when the roster gives them

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def per_hundred(self, *, last_year: bool = False) -> str:
        """Reports per 100 pupils on roll (the roll as it is today)."""
        count = (self.total.last_year if last_year else self.total.now).value or 0
        if not self.roll:
            return ""
        return f"{100 * count / self.roll:.1f}"


@dataclass(frozen=True)
class TrustFigures:
    trust_name: str
    period: Period
    comparison: Period
    schools: tuple[Figures, ...]
    totals: Figures
    notes: tuple[str, ...] = field(default=())
