"""The daily digest: the items of bulletins that are new since a channel's last digest, posted once.

:func:`build_digest` (:mod:`.render`) is pure: new bulletins (each with its items) → a list of Slack messages
``[{"text", "blocks"}]``, grouped by bulletin, then section; each item as its number and title, its
first sentence or two (verbatim from the item's first passage, escaped), and its citation with a
link; a header with the date and the count. Every message stays within Slack's limits (≤ 50 blocks,
section text ≤ 3,000 characters, header ≤ 150, ≤ 11,000 characters of text in all); a digest too
long for one message becomes a parent message (header and the list of bulletins) plus thread replies.

:func:`post_digest` (:mod:`.post`) is idempotent: it claims (channel, day) in the :class:`~bot.state.protocol.StateStore`,
builds the messages once and stores them, posts them one by one (recording each), then marks the
digest done. A restart, a second process or a re-run never posts a (channel, day) twice; a failed
post (network error, 5xx, ``not_in_channel``) marks it failed and the next run resumes at the first
message not posted. A 429 is retried after its ``Retry-After`` by slack_sdk's
``RateLimitErrorRetryHandler``; posts to one channel are spaced at least
:data:`MIN_POST_SPACING` seconds apart (https://api.slack.com/methods/chat.postMessage#rate_limiting).

"New" means: bulletins in the index in force that the channel's last built digest did not know
(each digest stores the keys ``source_file:fingerprint`` of every bulletin in the index it was built
from, so a bulletin ingested while a digest is built is neither lost nor listed twice; a changed
bulletin counts as new). A channel's first digest lists the bulletins ingested in the last
``first_days`` days; ``since`` (``bulletin-bot digest --since``) lists those ingested since a date.

Every time here is an aware :class:`~datetime.datetime` passed in as ``now`` (tests use a fixed
clock); sleeping is injected too.

The package, by job: :mod:`.select` (what is new for a channel), :mod:`.render` (the messages),
:mod:`.post` (the exactly-once protocol), :mod:`.runner` (runs for channels; the ``bulletin-bot
digest`` job), :mod:`.schedule` (the APScheduler wiring inside ``serve``) and :mod:`.subscriptions`
(a channel's digest of one law or topic: what matches).
"""

from __future__ import annotations

from .post import CLAIM_HOLD_SECONDS, MIN_POST_SPACING, DigestBuild, DigestOutcome, Spacer, post_digest
from .render import (
    MAX_EXCERPT_CHARS,
    MAX_HEADER_CHARS,
    MAX_OVERVIEW_CHARS,
    SHORT_SENTENCE_CHARS,
    Message,
    build_digest,
    first_sentences,
)
from .runner import DigestRunner, run_digest_job
from .schedule import start_digest_scheduler, start_scheduler
from .select import NewBulletin, bulletin_key, item_groups, item_passages, matching, new_bulletins, parse_instant

__all__ = [
    "CLAIM_HOLD_SECONDS", "MAX_EXCERPT_CHARS", "MAX_HEADER_CHARS", "MAX_OVERVIEW_CHARS", "MIN_POST_SPACING",
    "SHORT_SENTENCE_CHARS", "DigestBuild", "DigestOutcome", "DigestRunner", "Message", "NewBulletin", "Spacer",
    "build_digest", "bulletin_key", "first_sentences", "item_groups", "item_passages", "matching", "new_bulletins",
    "parse_instant", "post_digest", "run_digest_job", "start_digest_scheduler", "start_scheduler",
]
