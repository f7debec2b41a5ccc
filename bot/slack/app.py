"""``create_app``: wire settings, searcher and store into a slack_bolt ``App``. Only wiring lives here."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.config import Settings
from bot.slack.listeners.pool import TrackedExecutor
from bot.slack.listeners.registry import register
from bot.slack.listeners.responder import Responder
from bot.slack.listeners.uploads import Uploads
from bot.state.protocol import StateStore

log = logging.getLogger(__name__)

#: Threads running bolt's listeners. They only acknowledge, filter, dedupe and queue (the answer
#: workers search), so a small pool keeps every acknowledgement well within Slack's 3 seconds.
LISTENER_THREADS = 8


def make_client(settings: Settings) -> WebClient:
    """The Web API client: ``SLACK_API_URL`` as base URL; a 429 is retried after its ``Retry-After``
    (https://api.slack.com/apis/rate-limits), connection errors once."""
    return WebClient(
        token=settings.bot_token, base_url=settings.api_url, timeout=30,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=1),
                        RateLimitErrorRetryHandler(max_retry_count=settings.rate_limit_retries)],
    )


def uploads(settings: Settings, searcher) -> Uploads:
    """Who may upload bulletins, the size limit, the inbox folder, and the ingest ``ingest --watch`` makes
    (with the searcher's encoder, so the new generation is answered from without a restart)."""
    from retrieval.ingest import ingest

    return Uploads(settings.ingest_allowed_users, settings.upload_max_mb * 1024 * 1024, settings.inbox_path,
                   lambda files: ingest(files, settings.data_dir, searcher.encoder,
                                        max_passages_per_file=settings.max_passages_per_file),
                   files_url=settings.files_url)


class BulletinApp(App):
    """bolt's ``App`` with the :class:`~bot.slack.listeners.responder.Responder` its listeners use
    (``serve`` shuts its answer workers down; tests wait on it)."""

    responder: Responder


def create_app(settings: Settings, searcher, store: StateStore, client: WebClient | None = None,
               responder: Responder | None = None) -> BulletinApp:
    """A bolt ``App`` answering from ``searcher``, with its state in ``store``.

    Bolt calls ``auth.test`` once here to learn the bot's own user id (used to strip its mentions).
    Each Slack surface registers its listeners (:func:`bot.slack.listeners.registry.register`) with the
    :class:`~bot.slack.listeners.responder.Responder` as their ``deps``; it (and its answer worker pool) is ``app.responder``.

    Raises:
        slack_bolt.error.BoltError: the token is rejected by ``auth.test``.
    """
    client = client or make_client(settings)
    listener_executor = TrackedExecutor(LISTENER_THREADS, thread_name_prefix="listener")
    app = BulletinApp(
        client=client,
        signing_secret=settings.signing_secret or "",
        # Socket Mode requests are not signed. Over HTTP, no secret means every request fails (401).
        request_verification_enabled=bool(settings.signing_secret) or not settings.socket_mode,
        process_before_response=False,
        listener_executor=listener_executor,
        name="bulletin-bot",
    )
    responder = responder or Responder(searcher, store, top_k=settings.top_k, workers=settings.workers,
                                       follow_threads=settings.follow_threads, log_questions=settings.log_questions,
                                       queue_size=settings.queue_size, uploads=uploads(settings, searcher),
                                       digest_channels=tuple(settings.digest_channels))
    responder.listener_executor = listener_executor
    register(app, responder)
    app.responder = responder
    return app
