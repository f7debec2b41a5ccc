"""The listeners' ``deps``: what every surface needs (searcher, store, settings, the answer workers)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future

from bot.state.protocol import StateStore

from .pool import AnswerPool, TrackedExecutor
from .reply import report_error, tell
from .uploads import Uploads


class Responder:
    """Answers questions from Slack; one per app, passed as ``deps`` to each surface's ``register``.

    Args:
        searcher: a :class:`~retrieval.search.searcher.Searcher` (or anything with ``search(query, top_k)``).
        store: the bot's :class:`~bot.state.protocol.StateStore`.
        top_k: hits quoted per answer (a "More results" page shows as many again).
        workers: answer worker threads (a fixed pool; questions queue when all are busy).
        queue_size: questions that may wait for a free worker; past that the asker gets
            :data:`~bot.slack.listeners.pool.BUSY`.
        follow_threads: also answer un-mentioned messages in threads the bot answered in
            (needs the message.channels / message.groups events in the manifest).
        log_questions: put the question text in the per-answer log line (:class:`~bot.slack.listeners.reply.AnswerLog`),
            and keep it and the asker in the answer record (else the record keeps all but those two).
        uploads: who may add bulletins by uploading a file, the limits and the ingest call
            (:class:`~bot.slack.listeners.uploads.Uploads`); None: nobody may.
        digest_channels: the channels the daily digest is posted to (``DIGEST_CHANNELS``): a
            subscription made elsewhere is told so; None: not known, nothing is said.
    """

    def __init__(self, searcher, store: StateStore, *, top_k: int = 3, workers: int = 4,
                 follow_threads: bool = False, log_questions: bool = False, queue_size: int = 100,
                 uploads: Uploads | None = None, digest_channels: tuple[str, ...] | None = None):
        self.searcher = searcher
        self.digest_channels = digest_channels
        self.log_questions = log_questions
        self.store = store
        self.top_k = top_k
        self.follow_threads = follow_threads
        self.uploads = uploads
        self.pool = AnswerPool(workers, queue_size, on_error=self.on_error, tell=tell)
        #: bolt's listener executor, when create_app made it a TrackedExecutor (see wait_idle).
        self.listener_executor: TrackedExecutor | None = None

    @property
    def limit(self) -> int:
        """Answers that may be queued or running at once (workers + queue size)."""
        return self.pool.limit

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
        When the queue is full the asker is told ``BUSY`` instead, and None is returned."""
        return self.pool.run(work, body, client, respond, *args)

    def on_error(self, error: Exception, body: dict, client, respond=None) -> None:
        """The global error handler: log the failure and tell the user the search failed."""
        report_error(error, body, client, respond)
