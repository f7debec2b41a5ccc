"""Buttons: "More results" and "Share in channel" (all acknowledged at once; 👍 / 👎 are :mod:`.feedback`)."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slack import blocks
from retrieval.search.searcher import MAX_TOP_K

from .reply import PRIVATE_FALLBACK_ERRORS, error_code, post, search_message

log = logging.getLogger("bot.slack.listeners")


def register(app, deps) -> None:
    """Listen to "More results" and "Share in channel"; ``deps`` is the app's :class:`~bot.slack.listeners.responder.Responder`."""

    def more_results_callback(ack, body, action, respond, client):
        on_more(deps, ack, body, action, respond, client)

    def share_callback(ack, body, action, respond, client):
        on_share(deps, ack, body, action, respond, client)

    app.action(blocks.ACTION_MORE)(more_results_callback)
    app.action(blocks.ACTION_SHARE)(share_callback)


def on_more(deps, ack, body: dict, action: dict, respond, client) -> None:
    """"More results": post the next hits where the answer is (thread, DM, or privately)."""
    ack()
    deps.submit(more, body, client, respond, deps, body, action.get("value") or "", client, respond)


def more(deps, body: dict, value: str, client, respond) -> None:
    """Search again and post the page at the offset in ``value`` (``"<answer_id>:<offset>"``)."""
    answer_id, offset, carried = blocks.parse_button_value(value)
    record = deps.store.answer(answer_id)
    user = (body.get("user") or {}).get("id")
    query = record.query or carried if record is not None else None
    if record is None or not query or offset >= MAX_TOP_K:
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
    message = search_message(deps, query, user, channel, thread_ts, offset=offset, surface="more")
    if message is None:
        respond(response_type="ephemeral", replace_original=False,
                **blocks.render_notice("No more results for that question.").kwargs())
    elif private:
        respond(response_type="ephemeral", replace_original=False, **message.kwargs())
    else:
        post(client, channel, thread_ts, user, message, respond)


def on_share(deps, ack, body: dict, action: dict, respond, client) -> None:
    """"Share in channel" (on a private slash-command answer): post the answer in the channel."""
    ack()
    deps.submit(share, body, client, respond, deps, body, action.get("value") or "", client, respond)


def share(deps, body: dict, value: str, client, respond) -> None:
    """Post the answer ``value`` in the channel (through the response URL when the bot cannot), drop the private one."""
    answer_id, _, carried = blocks.parse_button_value(value or "0")
    record = deps.store.answer(answer_id)
    user = (body.get("user") or {}).get("id")
    query = record.query or carried if record is not None else None
    if record is None or not query:
        respond(response_type="ephemeral", replace_original=False,
                **blocks.render_notice("That answer is too old to share, sorry.").kwargs())
        return
    channel = (body.get("channel") or {}).get("id") or record.channel
    message = search_message(deps, query, user, channel, None, shared_by=user, surface="share")
    try:
        client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **message.kwargs())
    except SlackApiError as exc:
        if error_code(exc) not in PRIVATE_FALLBACK_ERRORS:
            raise
        log.info("cannot post in %s (%s); sharing through the response URL", channel, error_code(exc))
        respond(response_type="in_channel", replace_original=False, **message.kwargs())
    respond(delete_original=True)
