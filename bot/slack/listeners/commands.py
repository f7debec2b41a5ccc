"""``/bulletin QUESTION`` and ``/bulletin timeline NAME``: acknowledged at once, answered privately
through the response URL.

A text whose first word is "timeline" is the timeline of the instrument named after it ("of"/"for"
and "the" may come first: ``timeline of the AI Act``); ``timeline`` alone gives its usage and the
instruments the bulletins are about. When what follows names no instrument, the text is searched as
a question if it reads as one (it ends with "?" or the next word is "for", "when", "under"…, as in
``timeline for breach notifications under PIPL``), else the reply names the nearest instruments.

``/bulletin subscribe|unsubscribe|subscriptions …`` go to :mod:`.subscribe` instead (routed on the first word).
"""

from __future__ import annotations

import logging
import time

from bot.slack import blocks, mrkdwn, timeline_blocks
from retrieval.instruments.view import find, rows

from . import subscribe
from .reply import HELP_WORDS, AnswerLog, search_message

log = logging.getLogger("bot.slack.listeners")

TIMELINE_WORD = "timeline"
#: Words that, right after "timeline", make an unresolved name a question to search instead.
QUESTION_WORDS = frozenset(
    "for to when what which how why is are was were do does did will can could should must under in about "
    "until by with from after before since during".split())


def register(app, deps) -> None:
    """Listen to the ``/bulletin`` command; ``deps`` is the app's :class:`~bot.slack.listeners.responder.Responder`."""

    def bulletin_command_callback(ack, command, respond, context, client):
        on_command(deps, ack, command, respond, context, client)

    app.command("/bulletin")(bulletin_command_callback)


def on_command(deps, ack, command: dict, respond, context, client) -> None:
    """``/bulletin QUESTION``: acknowledge at once, answer privately via response_url."""
    ack()
    started = time.perf_counter()
    query = mrkdwn.clean_query(command.get("text"), context.get("bot_user_id"))
    if subscribe.route(deps, command, client, respond, query):
        return
    trace = AnswerLog("command", command.get("channel_id"), query, started)
    deps.submit(answer_command, command, client, respond, deps, respond, query, command.get("user_id"),
                command.get("channel_id"), trace)


def timeline_request(query: str) -> tuple[str, bool] | None:
    """``(name, reads_as_question)`` when ``query``'s first word is "timeline", else None.

    ``name`` is the rest without a leading "of", "for" or "on" (``""`` for "timeline" alone);
    ``reads_as_question`` is True when the rest ends with "?" or starts with a :data:`QUESTION_WORDS` word.
    """
    words = query.split()
    if not words or words[0].lower().rstrip(":") != TIMELINE_WORD:
        return None
    rest = words[1:]
    question = bool(rest) and (rest[-1].endswith("?") or rest[0].lower() in QUESTION_WORDS)
    if rest and rest[0].lower() in ("of", "for", "on"):
        rest = rest[1:]
    return " ".join(rest), question


def answer_command(deps, respond, query: str, user: str | None, channel: str | None,
                   trace: AnswerLog | None = None) -> None:
    """The private answer (with a "Share in channel" button), a timeline, or how to ask for an empty
    question or "help"."""
    if not query or query.lower() in HELP_WORDS:
        respond(response_type="ephemeral", **blocks.render_usage().kwargs())
        return
    if answer_timeline(deps, respond, query, channel):
        return
    message = search_message(deps, query, user, channel, None, share=True, trace=trace)
    respond(response_type="ephemeral", unfurl_links=False, unfurl_media=False, **message.kwargs())
    if trace is not None:
        trace.emit(deps.log_questions)


def answer_timeline(deps, respond, query: str, channel: str | None) -> bool:
    """Reply with a timeline (or its usage, or the nearest names) when ``query`` asks for one; False
    when it is a question to search. Raises what ``searcher.instruments()`` raises (IndexNotFoundError
    when nothing is indexed: told by the error handler as for a question)."""
    request = timeline_request(query)
    instruments = getattr(deps.searcher, "instruments", None)
    if request is None or instruments is None:
        return False
    name, question = request
    index = instruments()
    key = find(index, name) if name else None
    if key is None and name and question:
        return False
    if not name:
        message = timeline_blocks.render_timeline_usage(index)
    elif key is None:
        message = timeline_blocks.render_not_found(index, name)
    else:
        message = timeline_blocks.render_timeline(index.table.instruments[key], rows(index.events_of(key)))
    log.info("timeline surface=command channel=%s instrument=%s", channel, key or "-",
             extra={"event": "timeline", "surface": "command", "channel": channel, "instrument": key})
    respond(response_type="ephemeral", unfurl_links=False, unfurl_media=False, **message.kwargs())
    return True
