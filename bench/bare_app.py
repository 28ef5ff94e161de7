"""The yardstick: a bare Flask + SQLAlchemy endpoint that stores one row per POST.

Served by the same gunicorn configuration on the same database and engine settings as the
portal (``gunicorn -c gunicorn.conf.py 'bench.bare_app:create_app()'``), it is what the
pupil form's throughput is compared with: everything the portal does beyond "parse the form,
insert a row, commit, answer" (CSRF, validation, rate limits, urgency rules, the follow-up
code, the audit event, the confirmation page) is the difference.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, request
from sqlalchemy import DateTime, Integer, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from portal.db import make_engine


class Base(DeclarativeBase):
    pass


class BareRow(Base):
    __tablename__ = "bench_bare_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def prepare(database_url: str) -> None:
    """Create the yardstick's table (once, before its server starts)."""
    engine = make_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()


def create_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["PORTAL_DATABASE_URL"])
    sessions = sessionmaker(bind=engine)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/insert")
    def insert() -> tuple[str, int]:
        body = request.form.get("what_happened", "")
        with sessions() as session:
            row = BareRow(body=body, created_at=datetime.now(UTC))
            session.add(row)
            session.commit()
            return f"stored {row.id}", 200

    return app
