"""The digest inside ``serve``: an APScheduler job posting daily, and one resuming failed digests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone, tzinfo
from typing import TYPE_CHECKING

from bot.state.protocol import StateStore, StoreUnavailable

from .post import DigestOutcome
from .runner import DigestRunner

if TYPE_CHECKING:
    from retrieval.index.passages import PassageIndex

log = logging.getLogger("bot.digest")


def start_scheduler(runner: DigestRunner, channels: Sequence[str], at: str, tz: tzinfo,
                    clock: Callable[[], datetime] | None = None, retry_minutes: int = 15):
    """Start an APScheduler ``BackgroundScheduler`` posting the digest daily at ``at`` ("HH:MM") in ``tz``.

    A second job every ``retry_minutes`` resumes digests that failed (it never starts a new one), and
    runs the daily digest whole when the daily run found the state store down (``StoreUnavailable``,
    :mod:`bot.state.resilient`): an outage at posting time delays the digest, never drops the day.
    Runs missed by up to an hour (a busy or sleeping host) still run once; overlapping runs are not
    started. Returns the started scheduler; stop it with ``scheduler.shutdown(wait=False)``.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    clock = clock or (lambda: datetime.now(timezone.utc))
    hour, minute = (int(x) for x in at.split(":"))

    owed = threading.Event()  # the daily run found the state store down: the next retry runs it whole

    def daily() -> None:
        try:
            _log_outcomes(runner.run(channels, clock()))
        except StoreUnavailable as exc:
            owed.set()
            log.warning("daily digest postponed, the state store is down (%s): the retry every %d minutes "
                        "posts it once the store is back", exc, retry_minutes)
        else:
            owed.clear()

    def retry() -> None:
        if owed.is_set():
            daily()
            return
        try:
            _log_outcomes(runner.run(channels, clock(), resume_only=True))
        except StoreUnavailable as exc:
            log.info("digest retry skipped, the state store is down (%s)", exc)

    scheduler = BackgroundScheduler(timezone=tz)
    scheduler.add_job(daily, CronTrigger(hour=hour, minute=minute, timezone=tz), id="digest", name="daily digest",
                      coalesce=True, max_instances=1, misfire_grace_time=3600)
    scheduler.add_job(retry, IntervalTrigger(minutes=retry_minutes, timezone=tz), id="digest-retry",
                      name="digest retry", coalesce=True, max_instances=1)
    scheduler.start()
    log.info("daily digest at %s %s for %d channel(s); next at %s", at, tz, len(channels),
             scheduler.get_job("digest").next_run_time)
    return scheduler


def _log_outcomes(outcomes: list[DigestOutcome]) -> None:
    for o in outcomes:
        if o.status == "failed":
            log.warning("digest %s for %s failed: %s", o.day, o.channel, o.error)


def start_digest_scheduler(settings, index_source: Callable[[], PassageIndex], store: StateStore):
    """The scheduler ``serve`` starts when ``DIGEST_CHANNELS`` is set (None otherwise): posts with a
    Web API client built from ``settings``, reading the index through ``index_source``."""
    if not settings.digest_channels:
        return None
    from zoneinfo import ZoneInfo

    from bot.slack.app import make_client

    tz = ZoneInfo(settings.digest_tz)
    runner = DigestRunner(store, make_client(settings), index_source, tz=tz,
                          first_days=settings.digest_first_days, post_empty=settings.digest_post_empty)
    return start_scheduler(runner, settings.digest_channels, settings.digest_time, tz)
