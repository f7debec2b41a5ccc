"""👍 / 👎 on an answer, and on a 👎 "which passage answered it?" (all acknowledged at once).

A vote is stored against the answer record (one per user and answer; a later vote replaces it). A 👎
is answered privately with a choice among the passages the answer showed, or "None of these"
(:mod:`bot.slack.feedback_blocks`); the choice is stored on that 👎, and ``bulletin-bot feedback export``
turns it into an eval question.
"""

from __future__ import annotations

import logging
import re

from bot.slack import blocks, feedback_blocks
from bot.state.protocol import StoreUnavailable

log = logging.getLogger("bot.slack.listeners")

TOO_OLD = "That answer is too old to rate, sorry."
#: Said instead of the thanks while the ResilientStore keeps the vote in memory (the database is down).
KEPT = "Thanks, your feedback is recorded; it is saved once the bot's database is back."


def register(app, deps) -> None:
    """Listen to 👍 / 👎 and the passage choice; ``deps`` is the app's :class:`~bot.slack.listeners.responder.Responder`."""

    def feedback_callback(ack, body, action, respond, client):
        on_feedback(deps, ack, body, action, respond, client)

    def choice_callback(ack, body, action, respond, client):
        on_choice(deps, ack, body, action, respond, client)

    app.action(blocks.ACTION_UP)(feedback_callback)
    app.action(blocks.ACTION_DOWN)(feedback_callback)
    app.action(re.compile(f"^{feedback_blocks.ACTION_CHOICE}_\\d+$"))(choice_callback)


def on_feedback(deps, ack, body: dict, action: dict, respond, client) -> None:
    """👍 / 👎: record the vote (query, passage ids, user, time) and thank the user privately."""
    ack()
    vote = 1 if action.get("action_id") == blocks.ACTION_UP else -1
    deps.submit(record_feedback, body, client, respond, deps, respond, action.get("value"),
                (body.get("user") or {}).get("id"), vote)


def record_feedback(deps, respond, value: str | None, user: str | None, vote: int) -> None:
    """Store the vote on the answer ``value`` and thank the voter privately (or say it is too old); a 👎
    on an answer whose record lists the hits shown also asks which passage answered. While the database is
    down the vote waits in the ResilientStore, and the thanks says so."""
    answer_id = int(value or 0)
    recorded = deps.store.record_feedback(answer_id, user, vote)
    if not recorded:
        respond(response_type="ephemeral", replace_original=False, **blocks.render_notice(TOO_OLD).kwargs())
        return
    thanks = feedback_blocks.THANKS if getattr(deps.store, "available", True) else KEPT
    hits = shown_hits(deps, answer_id) if vote < 0 else []
    message = feedback_blocks.render_choice(answer_id, hits, thanks) if hits else blocks.render_notice(thanks)
    respond(response_type="ephemeral", replace_original=False, **message.kwargs())


def shown_hits(deps, answer_id: int) -> list:
    """The hits the answer record says were shown ([] for an unknown answer, one recorded before the audit
    trail, or a stored one while the database is down)."""
    try:
        record = deps.store.answer(answer_id)
    except StoreUnavailable:
        return []
    return list(record.details.hits) if record is not None and record.details is not None else []


def on_choice(deps, ack, body: dict, action: dict, respond, client) -> None:
    """"Which passage answered it?": store the choice on the voter's 👎 and replace the question with a note."""
    ack()
    deps.submit(record_choice, body, client, respond, deps, respond, action.get("value"),
                (body.get("user") or {}).get("id"))


def record_choice(deps, respond, value: str | None, user: str | None) -> None:
    """Store the choice ``value`` (``"<answer_id>:<rank>"``, rank 0: none of these) with the 👎."""
    answer_id, rank = feedback_blocks.parse_choice_value(value)
    hits = {h.rank: h for h in shown_hits(deps, answer_id)}
    if not hits or (rank and rank not in hits):
        respond(response_type="ephemeral", replace_original=False, **blocks.render_notice(TOO_OLD).kwargs())
        return
    deps.store.record_feedback(answer_id, user, -1, choice=rank)
    respond(response_type="ephemeral", replace_original=True,
            **feedback_blocks.render_chosen(hits.get(rank) if rank else None).kwargs())
