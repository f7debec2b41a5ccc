"""The audit trail's SQL, shared by the SQLite and PostgreSQL stores: the answer columns and the
``answers(since, until, user, channel)`` query (only the placeholder and the user column's name differ)."""

from __future__ import annotations

from .protocol import AnswerRecord, Feedback
from .records import AnswerDetails

#: The columns of an :class:`~bot.state.protocol.AnswerRecord`, in order (``{user}``: the user column's name).
ANSWER_COLUMNS = "id, query, passage_ids, {user}, channel, thread_ts, created_at, details"
#: The columns of a :class:`~bot.state.protocol.Feedback`, in order.
FEEDBACK_COLUMNS = "answer_id, query, passage_ids, {user}, vote, created_at, choice"


def answers_query(since: float | None, until: float | None, user: str | None, channel: str | None, *,
                  user_column: str, placeholder: str) -> tuple[str, tuple]:
    """``SELECT`` of the answers given from ``since`` to before ``until`` (Unix seconds), by ``user``, in
    ``channel`` (each when given), newest first; returns (sql, args)."""
    where, args = [], []
    for clause, value in ((f"created_at >= {placeholder}", since), (f"created_at < {placeholder}", until),
                          (f"{user_column} = {placeholder}", user), (f"channel = {placeholder}", channel)):
        if value is not None:
            where.append(clause)
            args.append(value)
    sql = f"SELECT {ANSWER_COLUMNS.format(user=user_column)} FROM answers"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql + " ORDER BY created_at DESC, id DESC", tuple(args)


def feedback_query(since: float | None, *, user_column: str, placeholder: str) -> tuple[str, tuple]:
    """``SELECT`` of the feedback cast from ``since`` (Unix seconds; all when None), oldest first."""
    sql = f"SELECT {FEEDBACK_COLUMNS.format(user=user_column)} FROM feedback"
    if since is None:
        return sql + " ORDER BY id", ()
    return sql + f" WHERE created_at >= {placeholder} ORDER BY id", (since,)


def answer_record(row, load_list) -> AnswerRecord:
    """The record of one row of :data:`ANSWER_COLUMNS` (``load_list`` turns the stored passage ids into a list)."""
    (id_, query, passage_ids, user, channel, thread_ts, created_at, details) = row
    return AnswerRecord(int(id_), query, load_list(passage_ids), user, channel, thread_ts, created_at,
                        AnswerDetails.from_json(details))


def feedback_record(row, load_list) -> Feedback:
    """The feedback of one row of :data:`FEEDBACK_COLUMNS`."""
    (answer_id, query, passage_ids, user, vote, created_at, choice) = row
    return Feedback(answer_id, query, load_list(passage_ids), user, vote, created_at, choice)
