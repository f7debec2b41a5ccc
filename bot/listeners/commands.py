"""``/bulletin QUESTION``: acknowledged at once, answered privately through the response URL.

``/bulletin subscribe|unsubscribe|subscriptions …`` go to :mod:`.subscribe` instead (routed on the first word).
"""

from __future__ import annotations

import time

from .. import blocks
from . import subscribe
from .reply import HELP_WORDS, AnswerLog, search_message


def register(app, deps) -> None:
    """Listen to the ``/bulletin`` command; ``deps`` is the app's :class:`~bot.listeners.responder.Responder`."""

    def bulletin_command_callback(ack, command, respond, context, client):
        on_command(deps, ack, command, respond, context, client)

    app.command("/bulletin")(bulletin_command_callback)


def on_command(deps, ack, command: dict, respond, context, client) -> None:
    """``/bulletin QUESTION``: acknowledge at once, answer privately via response_url."""
    ack()
    started = time.perf_counter()
    query = blocks.clean_query(command.get("text"), context.get("bot_user_id"))
    if subscribe.route(deps, command, client, respond, query):
        return
    trace = AnswerLog("command", command.get("channel_id"), query, started)
    deps.submit(answer_command, command, client, respond, deps, respond, query, command.get("user_id"),
                command.get("channel_id"), trace)


def answer_command(deps, respond, query: str, user: str | None, channel: str | None,
                   trace: AnswerLog | None = None) -> None:
    """The private answer (with a "Share in channel" button), or how to ask for an empty question or "help"."""
    if not query or query.lower() in HELP_WORDS:
        respond(response_type="ephemeral", **blocks.render_usage().kwargs())
        return
    message = search_message(deps, query, user, channel, None, share=True, trace=trace)
    respond(response_type="ephemeral", unfurl_links=False, unfurl_media=False, **message.kwargs())
    if trace is not None:
        trace.emit(deps.log_questions)
