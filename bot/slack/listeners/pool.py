"""The answer workers: a fixed thread pool with a bounded queue; past the bound the asker hears :data:`BUSY`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

log = logging.getLogger("bot.slack.listeners")

BUSY = "I'm busy — try again in a minute."

_P = ParamSpec("_P")
_T = TypeVar("_T")


class TrackedExecutor(ThreadPoolExecutor):
    """A fixed thread pool that knows how many tasks are queued or running (for :meth:`wait_idle`)."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        """Queue ``fn(*args, **kwargs)``, counted in :attr:`pending` (bolt's listener executor calls this)."""
        with self._idle:
            self._pending += 1
        return self._start(fn, *args, **kwargs)

    def submit_within(self, limit: int, fn: Callable[_P, _T], /, *args: _P.args,
                      **kwargs: _P.kwargs) -> Future[_T] | None:
        """Queue ``fn(*args, **kwargs)`` unless ``limit`` tasks are already queued or running (then None)."""
        with self._idle:
            if self._pending >= limit:
                return None
            self._pending += 1
        return self._start(fn, *args, **kwargs)

    def _start(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        """Hand an already counted task to the pool; it is uncounted when done (or when it cannot start)."""
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


class AnswerPool(TrackedExecutor):
    """``workers`` answer threads and at most ``queue_size`` questions waiting for one.

    Args:
        workers: answer worker threads.
        queue_size: tasks that may wait for a free worker; past that the asker is told :data:`BUSY`.
        on_error: ``on_error(exc, body, client, respond)``, called when a task raises (never silence).
        tell: ``tell(text, body, client, respond)``, posts a notice where the request came from.
    """

    def __init__(self, workers: int, queue_size: int, on_error: Callable[..., None],
                 tell: Callable[..., None]) -> None:
        super().__init__(workers, thread_name_prefix="answer")
        self.limit = workers + queue_size
        self.on_error = on_error
        self.tell = tell

    def run(self, work: Callable[..., None], body: dict, client, respond=None, *args) -> Future | None:
        """Run ``work(*args)`` on a worker; a failure goes to ``on_error``. When the queue is full the
        asker is told :data:`BUSY` instead, and None is returned."""

        def task() -> None:
            try:
                work(*args)
            except Exception as exc:  # noqa: BLE001 - the one place failures become a message
                self.on_error(exc, body, client, respond)

        future = self.submit_within(self.limit, task)
        if future is None:
            log.warning("answer queue full (%d waiting or running); told the asker to try again", self.limit)
            self.tell(BUSY, body, client, respond)
        return future
