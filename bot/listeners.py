"""Slack listeners: mentions, DMs, threads, ``/bulletin``, buttons, and the global error handler.

Every listener acknowledges first, then filters (bots, edits, joins, hidden messages) and dedupes
(event id and (channel, ts) in :class:`~bot.store.BotStore`), and hands the slow part — search and
Web API calls — to a fixed pool of answer workers, so Slack's 3-second acknowledgement never waits
for a search (https://api.slack.com/apis/events-api#responding). Listeners take bolt's injected
arguments by name and can be called directly in tests.

Which score is shown: the cosine similarity between the question and the passage.

Each answered question is logged as one structured INFO line (:class:`AnswerLog`):
``answer surface=mention channel=C1 latency_ms=412 hits=3 outcome=answered``, plus ``question="…"``
only when ``LOG_QUESTIONS`` is on.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from slack_sdk.errors import SlackApiError

from retrieval.errors import IndexMismatchError, IndexNotFoundError
from retrieval.search import MAX_TOP_K

from . import blocks
from .store import BotStore, event_keys

log = logging.getLogger(__name__)

#: Message subtypes that are people's questions; every other subtype (bot_message, message_changed,
#: message_deleted, channel_join, …) is ignored (https://api.slack.com/events/message#subtypes).
QUESTION_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
#: Web API errors after which the answer goes to the asker privately instead of the channel.
PRIVATE_FALLBACK_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})
SEARCHING_REACTION = "eyes"
HELP_WORDS = frozenset({"help", "?", "usage"})

FAILED = "Sorry, the search failed. The error has been logged; please try again in a moment."
BUSY = "I'm busy — try again in a minute."
NO_INDEX = "No bulletins are indexed yet, so I cannot answer. An administrator must run `bulletin-bot ingest`."


@dataclasses.dataclass
class AnswerLog:
    """One answered question, logged by :meth:`emit` as one INFO line of ``bot.listeners``.

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


class TrackedExecutor(ThreadPoolExecutor):
    """A fixed thread pool that knows how many tasks are queued or running (for :meth:`wait_idle`)."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, limit: int | None = None, **kwargs) -> Future | None:
        """Queue ``fn(*args, **kwargs)``; None (nothing queued) when ``limit`` tasks are already queued or running."""
        with self._idle:
            if limit is not None and self._pending >= limit:
                return None
            self._pending += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _future) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    @property
    def pending(self) -> int:
        """Tasks queued or running."""
        return self._pending

    def wait_idle(self, timeout: float) -> bool:
        """Block until no task is queued or running; False when ``timeout`` seconds pass first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


class Responder:
    """Answers questions from Slack; one per app.

    Args:
        searcher: a :class:`~retrieval.search.Searcher` (or anything with ``search(query, top_k)``).
        store: the bot's :class:`~bot.store.BotStore`.
        top_k: hits quoted per answer (a "More results" page shows as many again).
        workers: answer worker threads (a fixed pool; questions queue when all are busy).
        queue_size: questions that may wait for a free worker; past that the asker gets :data:`BUSY`.
        follow_threads: also answer un-mentioned messages in threads the bot answered in
            (needs the message.channels / message.groups events in the manifest).
        log_questions: put the question text in the per-answer log line (:class:`AnswerLog`).
    """

    def __init__(self, searcher, store: BotStore, *, top_k: int = 3, workers: int = 4,
                 follow_threads: bool = False, log_questions: bool = False, queue_size: int = 100):
        self.searcher = searcher
        self.limit = workers + queue_size
        self.log_questions = log_questions
        self.store = store
        self.top_k = top_k
        self.follow_threads = follow_threads
        self.pool = TrackedExecutor(workers, thread_name_prefix="answer")
        #: bolt's listener executor, when create_app made it a TrackedExecutor (see wait_idle).
        self.listener_executor: TrackedExecutor | None = None

    def register(self, app) -> None:
        """Attach the listeners and the global error handler to a bolt ``App``."""
        app.event("app_mention")(self.on_app_mention)
        app.event("message")(self.on_message)
        app.command("/bulletin")(self.on_command)
        app.action(blocks.ACTION_UP)(self.on_feedback)
        app.action(blocks.ACTION_DOWN)(self.on_feedback)
        app.action(blocks.ACTION_MORE)(self.on_more)
        app.action(blocks.ACTION_SHARE)(self.on_share)
        app.error(self.on_error)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the answer workers (after the queued answers when ``wait``)."""
        self.pool.shutdown(wait=wait)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every received request has been handled to the end (listeners, then answers).

        For tests and benchmarks: after Slack's HTTP request has been acknowledged, bolt has already
        queued its listener, so once this returns True nothing more will be posted for it.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self.listener_executor is not None and not self.listener_executor.wait_idle(deadline - time.monotonic()):
                return False
            if not self.pool.wait_idle(max(0.0, deadline - time.monotonic())):
                return False
            if self.listener_executor is None or self.listener_executor.pending == 0:
                return True

    def submit(self, work: Callable[..., None], body: dict, client, respond=None, *args) -> Future | None:
        """Run ``work(*args)`` on an answer worker; a failure goes to :meth:`on_error` (never silence).
        When the queue is full the asker is told :data:`BUSY` instead, and None is returned."""

        def run() -> None:
            try:
                work(*args)
            except Exception as exc:  # noqa: BLE001 - the one place failures become a message
                self.on_error(exc, body, client, respond)

        future = self.pool.submit(run, limit=self.limit)
        if future is None:
            log.warning("answer queue full (%d waiting or running); told the asker to try again", self.limit)
            self._tell(BUSY, body, client, respond)
        return future

    # -- events ------------------------------------------------------------------------------
    def on_app_mention(self, event: dict, body: dict, context, client) -> None:
        """``app_mention`` in a channel: answer in the message's thread (events are acked by bolt)."""
        if not is_question_event(event):
            return
        thread_ts = event.get("thread_ts") or event["ts"]
        self._take_question(event, body, context, client, thread_ts, "mention")

    def on_message(self, event: dict, body: dict, context, client) -> None:
        """``message``: a DM is answered in the DM; in a channel, a message mentioning the bot is
        answered like a mention (dedupe keeps it to one answer), and with ``follow_threads`` a
        message in a thread the bot answered in is answered there."""
        if not is_question_event(event):
            return
        bot_user_id = context.get("bot_user_id")
        if event.get("channel_type") == "im":
            thread_ts, surface = event.get("thread_ts"), "dm"
        elif bot_user_id and f"<@{bot_user_id}" in (event.get("text") or ""):
            thread_ts, surface = event.get("thread_ts") or event["ts"], "mention"
        elif (self.follow_threads and event.get("thread_ts")
              and self.store.is_bot_thread(event["channel"], event["thread_ts"])):
            thread_ts, surface = event["thread_ts"], "thread"
        else:
            return
        self._take_question(event, body, context, client, thread_ts, surface)

    def _take_question(self, event: dict, body: dict, context, client, thread_ts: str | None,
                       surface: str) -> None:
        started = time.perf_counter()
        channel, ts = event["channel"], event["ts"]
        if not self.store.claim(event_keys(body.get("event_id"), channel, ts)):
            log.info("duplicate event %s (channel %s, ts %s) ignored", body.get("event_id"), channel, ts)
            return
        query = blocks.clean_query(event.get("text"), context.get("bot_user_id"))
        log.info("question in %s from %s (%d characters)", channel, event.get("user"), len(query))
        trace = AnswerLog(surface, channel, query, started)
        self.submit(self._answer_event, body, client, None, client, channel, ts, thread_ts, event.get("user"), query,
                    trace)

    def _answer_event(self, client, channel: str, ts: str, thread_ts: str | None, user: str | None,
                      query: str, trace: AnswerLog | None = None) -> None:
        if not query or query.lower() in HELP_WORDS:
            self._post(client, channel, thread_ts, user, blocks.render_usage())
            return
        self._react(client.reactions_add, channel, ts)
        try:
            message = self._search_message(query, user, channel, thread_ts, trace=trace)
            self._post(client, channel, thread_ts, user, message)
            if trace is not None:
                trace.emit(self.log_questions)
            if thread_ts:
                self.store.remember_thread(channel, thread_ts)
        finally:
            self._react(client.reactions_remove, channel, ts)

    # -- the slash command -------------------------------------------------------------------
    def on_command(self, ack, command: dict, respond, context, client) -> None:
        """``/bulletin QUESTION``: acknowledge at once, answer privately via response_url."""
        ack()
        started = time.perf_counter()
        query = blocks.clean_query(command.get("text"), context.get("bot_user_id"))
        trace = AnswerLog("command", command.get("channel_id"), query, started)
        self.submit(self._answer_command, command, client, respond, respond, query, command.get("user_id"),
                    command.get("channel_id"), trace)

    def _answer_command(self, respond, query: str, user: str | None, channel: str | None,
                        trace: AnswerLog | None = None) -> None:
        if not query or query.lower() in HELP_WORDS:
            respond(response_type="ephemeral", **blocks.render_usage().kwargs())
            return
        message = self._search_message(query, user, channel, None, share=True, trace=trace)
        respond(response_type="ephemeral", unfurl_links=False, unfurl_media=False, **message.kwargs())
        if trace is not None:
            trace.emit(self.log_questions)

    # -- buttons -----------------------------------------------------------------------------
    def on_feedback(self, ack, body: dict, action: dict, respond, client) -> None:
        """👍 / 👎: record the vote (query, passage ids, user, time) and thank the user privately."""
        ack()
        vote = 1 if action.get("action_id") == blocks.ACTION_UP else -1
        self.submit(self._record_feedback, body, client, respond, respond, action.get("value"),
                    (body.get("user") or {}).get("id"), vote)

    def _record_feedback(self, respond, value: str | None, user: str | None, vote: int) -> None:
        recorded = self.store.record_feedback(int(value or 0), user, vote)
        text = "Thanks, your feedback is recorded." if recorded else "That answer is too old to rate, sorry."
        respond(response_type="ephemeral", replace_original=False, **blocks.render_notice(text).kwargs())

    def on_more(self, ack, body: dict, action: dict, respond, client) -> None:
        """"More results": post the next hits where the answer is (thread, DM, or privately)."""
        ack()
        self.submit(self._more, body, client, respond, body, action.get("value") or "", client, respond)

    def _more(self, body: dict, value: str, client, respond) -> None:
        answer_id, _, offset_s = value.partition(":")
        record = self.store.answer(int(answer_id))
        user = (body.get("user") or {}).get("id")
        offset = int(offset_s or 0)
        if record is None or offset >= MAX_TOP_K:
            respond(response_type="ephemeral", replace_original=False,
                    **blocks.render_notice("No more results for that question.").kwargs())
            return
        channel = (body.get("channel") or {}).get("id") or record.channel
        source = body.get("message") or {}
        private = (body.get("container") or {}).get("is_ephemeral") or not source
        if private:
            thread_ts = None
        elif str(channel or "").startswith("D"):  # a DM: next to the answer, as it was
            thread_ts = source.get("thread_ts")
        else:
            thread_ts = source.get("thread_ts") or source.get("ts")
        message = self._search_message(record.query, user, channel, thread_ts, offset=offset)
        if message is None:
            respond(response_type="ephemeral", replace_original=False,
                    **blocks.render_notice("No more results for that question.").kwargs())
        elif private:
            respond(response_type="ephemeral", replace_original=False, **message.kwargs())
        else:
            self._post(client, channel, thread_ts, user, message, respond)

    def on_share(self, ack, body: dict, action: dict, respond, client) -> None:
        """"Share in channel" (on a private slash-command answer): post the answer in the channel."""
        ack()
        self.submit(self._share, body, client, respond, body, action.get("value") or "", client, respond)

    def _share(self, body: dict, value: str, client, respond) -> None:
        record = self.store.answer(int(value or 0))
        user = (body.get("user") or {}).get("id")
        if record is None:
            respond(response_type="ephemeral", replace_original=False,
                    **blocks.render_notice("That answer is too old to share, sorry.").kwargs())
            return
        channel = (body.get("channel") or {}).get("id") or record.channel
        message = self._search_message(record.query, user, channel, None, shared_by=user)
        try:
            client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **message.kwargs())
        except SlackApiError as exc:
            if _error_code(exc) not in PRIVATE_FALLBACK_ERRORS:
                raise
            log.info("cannot post in %s (%s); sharing through the response URL", channel, _error_code(exc))
            respond(response_type="in_channel", replace_original=False, **message.kwargs())
        respond(delete_original=True)

    # -- shared steps ------------------------------------------------------------------------
    def _search_message(self, query: str, user: str | None, channel: str | None, thread_ts: str | None, *,
                        offset: int = 0, share: bool = False, shared_by: str | None = None,
                        trace: AnswerLog | None = None):
        """Search, store the answer, render it; None when a "More results" page is empty.
        ``trace`` (when given) gets the hits shown and whether the answer is confident."""
        want = min(MAX_TOP_K, offset + self.top_k + 1)
        answer = self.searcher.search(query, top_k=want)
        page = answer.hits[offset: offset + self.top_k]
        if trace is not None:
            trace.hits, trace.answered, trace.tier = len(page), bool(answer.answered), answer.tier
        if offset and not page:
            return None
        more = len(answer.hits) > offset + self.top_k and offset + self.top_k < MAX_TOP_K
        answer_id = self.store.record_answer(query, [i for h in page for i in blocks.passage_ids(h)], user, channel,
                                             thread_ts)
        shown = dataclasses.replace(answer, hits=page)
        return blocks.render_answer(shown, answer_id=answer_id, offset=offset, more=more and bool(page),
                                    share=share, shared_by=shared_by)

    def _post(self, client, channel: str, thread_ts: str | None, user: str | None, message, respond=None) -> None:
        """chat.postMessage in the channel (thread); on not_in_channel and the like, privately instead."""
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                                    **message.kwargs())
            return
        except SlackApiError as exc:
            code = _error_code(exc)
            if code not in PRIVATE_FALLBACK_ERRORS or not user:
                raise
            log.info("cannot post in %s (%s); answering %s privately", channel, code, user)
        note = "I cannot post in that channel (invite me with /invite), so here is my answer privately."
        if respond is not None:
            respond(response_type="ephemeral", replace_original=False, **message.kwargs())
            return
        dm = client.conversations_open(users=user)["channel"]["id"]
        client.chat_postMessage(channel=dm, text=blocks.escape(note), unfurl_links=False, unfurl_media=False)
        client.chat_postMessage(channel=dm, unfurl_links=False, unfurl_media=False, **message.kwargs())

    @staticmethod
    def _react(method, channel: str, ts: str) -> None:
        try:
            method(channel=channel, timestamp=ts, name=SEARCHING_REACTION)
        except SlackApiError as exc:  # already_reacted, no_reaction, missing_scope: never worth failing over
            log.debug("reaction %s on %s/%s: %s", SEARCHING_REACTION, channel, ts, _error_code(exc))

    # -- the global error handler ------------------------------------------------------------
    def on_error(self, error: Exception, body: dict, client, respond=None) -> None:
        """Log the failure and tell the user the search failed (in the thread, DM, or privately)."""
        if isinstance(error, IndexNotFoundError):
            log.warning("question asked but nothing is indexed: %s", error)
            text = NO_INDEX
        elif isinstance(error, IndexMismatchError):  # specific already, and the searcher logged its cause once
            log.error("answering failed: %s", error)
            text = FAILED
        else:
            log.exception("answering failed", exc_info=error)
            text = FAILED
        self._tell(text, body, client, respond)

    @staticmethod
    def _tell(text: str, body: dict, client, respond=None) -> None:
        """Post a notice where the request came from: its thread or DM, or privately (command, button)."""
        message = blocks.render_notice(text)
        try:
            event = (body or {}).get("event")
            if event and event.get("channel"):
                thread_ts = event.get("thread_ts") or (None if event.get("channel_type") == "im" else event.get("ts"))
                client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts, **message.kwargs())
            elif respond is not None and (body or {}).get("response_url"):
                respond(response_type="ephemeral", replace_original=False, **message.kwargs())
        except Exception:  # noqa: BLE001 - telling the user is best effort
            log.exception("could not tell the user: %s", text)


def _error_code(exc: SlackApiError) -> str | None:
    try:
        return exc.response.get("error")
    except Exception:  # noqa: BLE001
        return None
