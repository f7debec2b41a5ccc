"""The reply logic every surface shares: take a question, search → store → render, post, and tell errors.

Which score is shown: the cosine similarity between the question and the passage.

Each answered question is logged as one structured INFO line (:class:`AnswerLog`):
``answer surface=mention channel=C1 latency_ms=412 hits=3 outcome=answered``, plus ``question="…"``
only when ``LOG_QUESTIONS`` is on.

Functions here take ``deps`` first: the app's :class:`~bot.slack.listeners.responder.Responder` (searcher,
store, settings and the answer pool).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import time

from slack_sdk.errors import SlackApiError

from bot.slack import blocks, mrkdwn
from bot.state.protocol import StoreUnavailable, event_keys
from bot.state.records import AnswerDetails, searched_generation
from retrieval.errors import FilterError, IndexMismatchError, IndexNotFoundError
from retrieval.search.searcher import MAX_TOP_K

log = logging.getLogger("bot.slack.listeners")

#: Message subtypes that are people's questions; every other subtype (bot_message, message_changed,
#: message_deleted, channel_join, …) is ignored (https://api.slack.com/events/message#subtypes).
QUESTION_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
#: Web API errors after which the answer goes to the asker privately instead of the channel.
PRIVATE_FALLBACK_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
SEARCHING_REACTION = "eyes"
HELP_WORDS = frozenset({"help", "?", "usage"})

FAILED = "Sorry, the search failed. The error has been logged; please try again in a moment."
BAD_FILTER = "I cannot search that as written: {error}."
NO_INDEX = "No bulletins are indexed yet, so I cannot answer. An administrator must run `bulletin-bot ingest`."
STORE_DOWN = ("The bot's database is unavailable right now, so I could not do that (questions are still "
              "answered); please try again in a few minutes.")


@dataclasses.dataclass
class AnswerLog:
    """One answered question, logged by :meth:`emit` as one INFO line of ``bot.slack.listeners``.

    The fields also go to the record as ``extra`` (keys of their own with ``LOG_FORMAT=json``):
    ``surface`` (mention, dm, thread, command), ``channel``, ``latency_ms`` (int, milliseconds from the
    listener taking the question to the answer posted: queueing, search and Web API calls), ``hits``
    (passages shown), ``outcome`` ("answered", or "abstained": no confident answer), ``tier`` (the
    reply tier: "answers", "related" or "nothing"), and ``question`` only when asked to.
    """

    surface: str
    channel: str | None
    query: str
    started: float = dataclasses.field(default_factory=time.perf_counter)
    hits: int = 0
    answered: bool = False
    tier: str = "nothing"

    def emit(self, with_question: bool = False) -> None:
        """Log the line (with the question text only when ``with_question``)."""
        fields = {"event": "answer", "surface": self.surface, "channel": self.channel,
                  "latency_ms": round((time.perf_counter() - self.started) * 1000), "hits": self.hits,
                  "outcome": "answered" if self.answered else "abstained", "tier": self.tier}
        if with_question:
            fields["question"] = self.query
        log.info("answer surface=%s channel=%s latency_ms=%d hits=%d outcome=%s tier=%s%s", fields["surface"],
                 fields["channel"], fields["latency_ms"], fields["hits"], fields["outcome"], fields["tier"],
                 f" question={json.dumps(self.query, ensure_ascii=False)}" if with_question else "", extra=fields)


def is_question_event(event: dict) -> bool:
    """True for a person's new message; False for any bot's message (bot_id, bot_profile, subtype
    bot_message), edits, deletions, joins and other subtypes, and hidden messages."""
    return not (event.get("bot_id") or event.get("bot_profile") or event.get("hidden")
                or event.get("subtype") not in QUESTION_SUBTYPES)


def take_question(deps, event: dict, body: dict, context, client, thread_ts: str | None,
                  surface: str) -> None:
    """Dedupe the event (its id and its (channel, ts)), then queue its answer on the answer workers."""
    started = time.perf_counter()
    channel, ts = event["channel"], event["ts"]
    if not deps.store.claim(event_keys(body.get("event_id"), channel, ts)):
        log.info("duplicate event %s (channel %s, ts %s) ignored", body.get("event_id"), channel, ts)
        return
    query = mrkdwn.clean_query(event.get("text"), context.get("bot_user_id"))
    log.info("question in %s from %s (%d characters)", channel, event.get("user"), len(query))
    trace = AnswerLog(surface, channel, query, started)
    deps.submit(answer_event, body, client, None, deps, client, channel, ts, thread_ts, event.get("user"), query,
                trace)


def answer_event(deps, client, channel: str, ts: str, thread_ts: str | None, user: str | None,
                 query: str, trace: AnswerLog | None = None) -> None:
    """Answer a question event where it was asked (usage for an empty question or "help"), 👀 meanwhile."""
    if not query or query.lower() in HELP_WORDS:
        post(client, channel, thread_ts, user, blocks.render_usage())
        return
    react(client.reactions_add, channel, ts)
    try:
        message = search_message(deps, query, user, channel, thread_ts, trace=trace)
        post(client, channel, thread_ts, user, message)
        if trace is not None:
            trace.emit(deps.log_questions)
        if thread_ts:
            deps.store.remember_thread(channel, thread_ts)
    finally:
        react(client.reactions_remove, channel, ts)


def search_message(deps, query: str, user: str | None, channel: str | None, thread_ts: str | None, *,
                   offset: int = 0, share: bool = False, shared_by: str | None = None,
                   trace: AnswerLog | None = None, surface: str | None = None):
    """Search, record the answer (the audit record: :func:`record_shown`), render it; None when a "More
    results" page is empty. ``trace`` (when given) gets the hits shown and whether the answer is confident;
    ``surface`` (default: the trace's, else "mention") is where the answer is given."""
    want = min(MAX_TOP_K, offset + deps.top_k + 1)
    answer = deps.searcher.search(query, top_k=want)
    page = answer.hits[offset: offset + deps.top_k]
    if trace is not None:
        trace.hits, trace.answered, trace.tier = len(page), bool(answer.answered), answer.tier
    if offset and not page:
        return None
    more = len(answer.hits) > offset + deps.top_k and offset + deps.top_k < MAX_TOP_K
    shown = dataclasses.replace(answer, hits=page)
    render = functools.partial(blocks.render_answer, shown, offset=offset, more=more and bool(page), share=share,
                               shared_by=shared_by, query=None if deps.log_questions else query)
    fitted = render(answer_id=0).passage_ids  # the hits that fit in one message are the hits shown
    count, ids = 0, 0
    for hit in page:
        ids += len(blocks.passage_ids(hit))
        if ids > len(fitted):
            break
        count += 1
    answer_id = record_shown(deps, query, answer, page[:count], user, channel, thread_ts,
                             surface=surface or (trace.surface if trace is not None else "mention"), offset=offset)
    return render(answer_id=answer_id)


def record_shown(deps, query: str, answer, hits: list, user: str | None, channel: str | None,
                 thread_ts: str | None, *, surface: str, offset: int = 0) -> int:
    """Record an answer given with ``hits`` shown: its audit details (:class:`~bot.state.records.AnswerDetails`:
    the generation searched, tier, filters, citations and quotes); the question text and the asker only
    when ``deps.log_questions`` (``LOG_QUESTIONS``). Returns the answer's id."""
    kept = bool(deps.log_questions)
    details = AnswerDetails.of(answer, hits, surface=surface, generation=searched_generation(deps.searcher),
                               offset=offset, question_kept=kept)
    return deps.store.record_answer(query if kept else "", [i for h in hits for i in blocks.passage_ids(h)],
                                    user if kept else None, channel, thread_ts, details=details)


def post(client, channel: str, thread_ts: str | None, user: str | None, message, respond=None) -> None:
    """chat.postMessage in the channel (thread); on not_in_channel and the like, privately instead."""
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                                **message.kwargs())
        return
    except SlackApiError as exc:
        code = error_code(exc)
        if code not in PRIVATE_FALLBACK_ERRORS or not user:
            raise
        log.info("cannot post in %s (%s); answering %s privately", channel, code, user)
    note = "I cannot post in that channel (invite me with /invite), so here is my answer privately."
    if respond is not None:
        respond(response_type="ephemeral", replace_original=False, **message.kwargs())
        return
    dm = client.conversations_open(users=user)["channel"]["id"]
    client.chat_postMessage(channel=dm, text=mrkdwn.escape(note), unfurl_links=False, unfurl_media=False)
    client.chat_postMessage(channel=dm, unfurl_links=False, unfurl_media=False, **message.kwargs())


def react(method, channel: str, ts: str) -> None:
    """Add or remove (``method``) the :data:`SEARCHING_REACTION` on a message; failures are only logged."""
    try:
        method(channel=channel, timestamp=ts, name=SEARCHING_REACTION)
    except SlackApiError as exc:  # already_reacted, no_reaction, missing_scope: never worth failing over
        log.debug("reaction %s on %s/%s: %s", SEARCHING_REACTION, channel, ts, error_code(exc))


def report_error(error: Exception, body: dict, client, respond=None) -> None:
    """Log the failure and tell the user the search failed (in the thread, DM, or privately); a bad
    filter or "as of" date in the question (:class:`~retrieval.errors.FilterError`) is told as it is."""
    if isinstance(error, FilterError):
        log.info("question with a bad filter: %s", error)
        text = BAD_FILTER.format(error=error)
    elif isinstance(error, IndexNotFoundError):
        log.warning("question asked but nothing is indexed: %s", error)
        text = NO_INDEX
    elif isinstance(error, StoreUnavailable):
        log.warning("a request needed the state store, which is down: %s", error)
        text = STORE_DOWN
    elif isinstance(error, IndexMismatchError):  # specific already, and the searcher logged its cause once
        log.error("answering failed: %s", error)
        text = FAILED
    else:
        log.exception("answering failed", exc_info=error)
        text = FAILED
    tell(text, body, client, respond)


def tell(text: str, body: dict, client, respond=None) -> None:
    """Post a notice where the request came from: its thread or DM, or privately (command, button)."""
    message = blocks.render_notice(text)
    try:
        event = (body or {}).get("event")
        if event and event.get("channel"):
            thread_ts = event.get("thread_ts") or (None if event.get("channel_type") == "im" else event.get("ts"))
            client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts, **message.kwargs())
        elif respond is not None and (body or {}).get("response_url"):
            respond(response_type="ephemeral", replace_original=False, **message.kwargs())
    except Exception:
        log.exception("could not tell the user: %s", text)


def error_code(exc: SlackApiError) -> str | None:
    """The Web API error code of ``exc`` (``not_in_channel``…), or None."""
    try:
        return exc.response.get("error")
    except Exception:  # noqa: BLE001
        return None
