"""Full-text search over records: SQLite FTS5 and PostgreSQL tsvector, one Python API.

The index covers ``records.title`` and ``records.search_text`` (which the
record writer fills with users, samples, instrument, dataset names and key
metadata). User input is never passed to the FTS query language: it is cut
into plain words, each matched as a prefix and all required, so quotes, ``*``,
``NEAR``, ``')--`` and friends are just text (no syntax errors, no injection).

The DDL lives here and is run by migration 0002, so the query side and the
index definition cannot drift apart.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Integer, column, func, literal_column, select, table, text
from sqlalchemy.sql.elements import ClauseElement

from nexuslims_kernel.db.models import Record

MAX_TERMS = 16
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# -- DDL (used by migration 0002) -------------------------------------------

SQLITE_UP = [
    "CREATE VIRTUAL TABLE records_fts USING fts5(title, search_text, content='records', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER records_fts_ai AFTER INSERT ON records BEGIN "
    "INSERT INTO records_fts(rowid, title, search_text) VALUES (new.id, new.title, new.search_text); END",
    "CREATE TRIGGER records_fts_ad AFTER DELETE ON records BEGIN "
    "INSERT INTO records_fts(records_fts, rowid, title, search_text) VALUES ('delete', old.id, old.title, old.search_text); END",
    "CREATE TRIGGER records_fts_au AFTER UPDATE OF title, search_text ON records BEGIN "
    "INSERT INTO records_fts(records_fts, rowid, title, search_text) VALUES ('delete', old.id, old.title, old.search_text); "
    "INSERT INTO records_fts(rowid, title, search_text) VALUES (new.id, new.title, new.search_text); END",
    "INSERT INTO records_fts(records_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS records_fts_au",
    "DROP TRIGGER IF EXISTS records_fts_ad",
    "DROP TRIGGER IF EXISTS records_fts_ai",
    "DROP TABLE IF EXISTS records_fts",
]
# 'simple' (no stemming, no stop words) matches SQLite's unicode61 behaviour and
# suits names, sample ids and instrument words better than an English stemmer.
PG_UP = [
    "ALTER TABLE records ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(search_text, '')), 'B')) STORED",
    "CREATE INDEX ix_records_search_tsv ON records USING GIN (search_tsv)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS ix_records_search_tsv",
    "ALTER TABLE records DROP COLUMN IF EXISTS search_tsv",
]


def ddl(dialect: str, up: bool = True) -> list[str]:
    """The statements that create (or drop) the search index on ``dialect``."""
    if dialect == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    if dialect == "postgresql":
        return PG_UP if up else PG_DOWN
    raise ValueError(f"no full-text search for {dialect}")


# -- queries ----------------------------------------------------------------


def terms(query: str | None) -> list[str]:
    """The plain words of a user's query (at most MAX_TERMS), lower-cased."""
    return [w.lower() for w in _WORD.findall(query or "")][:MAX_TERMS]


_fts = table("records_fts", column("rowid", Integer))


def match_clause(dialect: str, query: str | None) -> ColumnElement[bool] | None:
    """A WHERE clause on ``Record`` for records matching every word (prefix match); None if no words."""
    words = terms(query)
    if not words:
        return None
    if dialect == "sqlite":
        expr = " ".join(f'"{w}"*' for w in words)  # words are [^\W_]+: no quotes inside
        sub = select(_fts.c.rowid).where(text("records_fts MATCH :fts_q").bindparams(fts_q=expr))
        return Record.id.in_(sub)
    expr = " & ".join(f"{w}:*" for w in words)
    return literal_column("records.search_tsv").op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), expr))


def rank_order(dialect: str, query: str | None) -> ClauseElement | None:
    """An ORDER BY term, best match first (None if the query has no words)."""
    words = terms(query)
    if not words:
        return None
    if dialect == "sqlite":
        expr = " ".join(f'"{w}"*' for w in words)
        # bm25() is negative: smaller is better.
        sub = (
            select(func.bm25(literal_column("records_fts")))
            .select_from(_fts)
            .where(_fts.c.rowid == Record.id, text("records_fts MATCH :fts_r").bindparams(fts_r=expr))
            .scalar_subquery()
        )
        return sub.asc()
    expr = " & ".join(f"{w}:*" for w in words)
    rank = func.ts_rank(literal_column("records.search_tsv"), func.to_tsquery(literal_column("'simple'::regconfig"), expr))
    return rank.desc()
