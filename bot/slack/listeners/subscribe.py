"""``/bulletin subscribe …``, ``/bulletin unsubscribe …``, ``/bulletin subscriptions``: a channel's digest subscriptions.

Routed from :mod:`.commands` by the first word of the command text (:func:`route`); anything else is a
question. Acknowledged at once by the command listener; the store and the instrument index are read on
an answer worker, and the reply is ephemeral (only the person who typed it sees it). Anyone who can use
``/bulletin`` in a channel may change that channel's subscriptions. What a text becomes (an
instrument or a topic) and which items match: :mod:`bot.digest.subscriptions`.
"""

from __future__ import annotations

import logging

from bot.digest import subscriptions as subs
from bot.slack import blocks, mrkdwn
from bot.state.protocol import StoreUnavailable
from retrieval.errors import IndexNotFoundError

from .reply import STORE_DOWN

log = logging.getLogger("bot.slack.listeners")

SUBCOMMANDS = ("subscribe", "unsubscribe", "subscriptions")
#: How to subscribe, shown with a refused text and an empty listing.
HOW = ("`/bulletin subscribe PIPL` (an instrument: its name or acronym), `/bulletin subscribe facial recognition` "
       "(a topic: items with all of its words), `/bulletin unsubscribe …`, `/bulletin subscriptions`")
FAILED = "Sorry, changing the subscriptions failed. The error has been logged; please try again in a moment."


def subcommand(query: str) -> tuple[str, str] | None:
    """``(verb, text)`` when the command text is a subscription command, else None (it is a question).

    ``subscribe``/``unsubscribe`` (any case) and the rest, without a leading "to"/"from"
    ("subscribe to PIPL"); ``subscriptions`` only alone ("subscriptions under the GDPR?" is a question).
    """
    first, _, rest = (query or "").strip().partition(" ")
    verb, rest = first.lower(), rest.strip()
    if verb == "subscriptions":
        return (verb, "") if not rest else None
    if verb not in ("subscribe", "unsubscribe"):
        return None
    lead, _, tail = rest.partition(" ")
    if tail.strip() and lead.lower() == ("to" if verb == "subscribe" else "from"):
        rest = tail.strip()
    return verb, rest


def route(deps, command: dict, client, respond, query: str) -> bool:
    """Hand a subscription command to an answer worker; False when the text is not one (a question)."""
    parsed = subcommand(query)
    if parsed is None:
        return False
    deps.submit(run_subcommand, command, client, respond, deps, respond, *parsed, command.get("channel_id"),
                command.get("user_id"))
    return True


def run_subcommand(deps, respond, verb: str, text: str, channel: str | None, user: str | None) -> None:
    """Do the subscription command and reply privately (what it became, or why not)."""
    try:
        message = _reply(deps, verb, text, channel, user)
    except StoreUnavailable as exc:
        log.warning("/bulletin %s in %s: %s", verb, channel, exc)
        message = blocks.render_notice(STORE_DOWN)
    except Exception:
        log.exception("/bulletin %s failed in %s", verb, channel)
        message = blocks.render_notice(FAILED)
    respond(response_type="ephemeral", unfurl_links=False, unfurl_media=False, **message.kwargs())


def _reply(deps, verb: str, text: str, channel: str | None, user: str | None) -> blocks.Message:
    if not channel:
        return blocks.render_notice("This command works in a channel: its digest is the one subscribed.")
    where = "this conversation" if channel.startswith("D") else f"<#{channel}>"
    instruments = _instruments(deps)
    store = deps.store
    if verb == "subscriptions":
        current = store.subscriptions(channel)
        if not current:
            return _message(f"{where} has no subscriptions: its digest lists every new item. To narrow it: "
                            f"{HOW}.", deps, channel, where)
        lines = subs.listing_lines(current, instruments, who=lambda u: f"<@{u}>", esc=mrkdwn.escape)
        head = (f"{where} gets only the new items matching one of its {len(current)} subscription"
                f"{'s' if len(current) != 1 else ''}:")
        return _message(head, deps, channel, where, lines)
    try:
        change = (subs.add(store, channel, text, user, instruments) if verb == "subscribe"
                  else subs.remove(store, channel, text, instruments))
    except subs.SubscriptionError as exc:
        return _message(f"{mrkdwn.escape(str(exc))} Usage: {HOW}.", deps, channel, where, note=False)
    sentence = subs.change_sentence(change, where, instruments, store.subscriptions(channel), esc=mrkdwn.escape)
    return _message(sentence, deps, channel, where, note=change.status in ("added", "already"))


def _message(head: str, deps, channel: str, where: str, lines: list[str] | None = None,
             note: bool = True) -> blocks.Message:
    """The reply: ``head`` (mrkdwn, escaped already), ``lines`` as bullets, and a note when the channel is
    not one the digest is posted to. Sections stay within Slack's 3,000 characters each."""
    tail = []
    posted_to = getattr(deps, "digest_channels", None)
    if note and posted_to is not None and channel not in posted_to:
        tail.append(f"Note: {where} is not among the channels the daily digest is posted to (DIGEST_CHANNELS); "
                    "ask whoever runs the bot to add it.")
    sections, current = [], head
    for line in lines or []:
        bullet = "• " + line
        if len(current) + 1 + len(bullet) > blocks.MAX_SECTION_CHARS:
            sections.append(current)
            current = bullet
        else:
            current += "\n" + bullet
    sections.append(current)
    sections.extend(tail)
    fallback = mrkdwn.shorten(head, 2900) + ("\n" + tail[0] if tail else "")
    return blocks.Message(fallback, [blocks.section_block(s) for s in sections[:blocks.MAX_BLOCKS]])


def _instruments(deps):
    """The instruments of the generation in force, or the alias table alone when nothing is indexed yet."""
    get = getattr(deps.searcher, "instruments", None)
    if get is None:
        return subs.table_only()
    try:
        return get()
    except IndexNotFoundError:
        return subs.table_only()
