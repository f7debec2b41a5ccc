"""``message``: direct messages, channel messages that mention the bot, and threads the bot answered in."""

from __future__ import annotations

from .reply import is_question_event, take_question
from .uploads import has_files, take_upload


def register(app, deps) -> None:
    """Listen to ``message`` events; ``deps`` is the app's :class:`~bot.slack.listeners.responder.Responder`."""

    def message_callback(event, body, context, client):
        on_message(deps, event, body, context, client)

    app.event("message")(message_callback)


def on_message(deps, event: dict, body: dict, context, client) -> None:
    """``message``: a DM is answered in the DM; in a channel, a message mentioning the bot is
    answered like a mention (dedupe keeps it to one answer), and with ``follow_threads`` a
    message in a thread the bot answered in is answered there. A DM or mention sharing files is an
    upload (:mod:`.uploads`): the files are added as bulletins and the caption is not answered."""
    if not is_question_event(event):
        return
    bot_user_id = context.get("bot_user_id")
    if event.get("channel_type") == "im":
        thread_ts, surface = event.get("thread_ts"), "dm"
    elif bot_user_id and f"<@{bot_user_id}" in (event.get("text") or ""):
        thread_ts, surface = event.get("thread_ts") or event["ts"], "mention"
    elif (deps.follow_threads and event.get("thread_ts")
          and deps.store.is_bot_thread(event["channel"], event["thread_ts"])):
        thread_ts, surface = event["thread_ts"], "thread"
    else:
        return
    if has_files(event):
        if surface != "thread":
            take_upload(deps, event, body, client, event.get("thread_ts") or event["ts"])
        return
    take_question(deps, event, body, context, client, thread_ts, surface)
