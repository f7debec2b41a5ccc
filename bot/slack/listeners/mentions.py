"""``app_mention``: a mention in a channel is answered in the message's thread."""

from __future__ import annotations

from .reply import is_question_event, take_question
from .uploads import has_files, take_upload


def register(app, deps) -> None:
    """Listen to ``app_mention`` events; ``deps`` is the app's :class:`~bot.slack.listeners.responder.Responder`."""

    def app_mention_callback(event, body, context, client):
        on_app_mention(deps, event, body, context, client)

    app.event("app_mention")(app_mention_callback)


def on_app_mention(deps, event: dict, body: dict, context, client) -> None:
    """``app_mention`` in a channel: answer in the message's thread (events are acked by bolt); a
    mention sharing files is an upload (:mod:`.uploads`), its caption not answered."""
    if not is_question_event(event):
        return
    thread_ts = event.get("thread_ts") or event["ts"]
    if has_files(event):
        take_upload(deps, event, body, client, thread_ts)
        return
    take_question(deps, event, body, context, client, thread_ts, "mention")
