"""Pure rendering of the 👎 follow-up: "Which passage answered it?" — a button per hit shown, and "None of these".

Each button's value is ``"<answer_id>:<rank>"`` (rank 0: none of these); the choice is stored on the
voter's 👎 (:meth:`bot.state.protocol.StateStore.record_feedback` with ``choice``) and becomes an eval
question (``bulletin-bot feedback export``).
"""

from __future__ import annotations

from bot.state.records import ShownHit

from .blocks import Message, context_block, section_block
from .mrkdwn import escape, shorten

#: action_id of every "which passage answered it?" button (one listener; the value says which).
ACTION_CHOICE = "feedback_choice"
#: At most this many passages are offered (a Slack actions block holds at most 25 elements).
MAX_CHOICES = 10
#: Button text is at most 75 characters (https://api.slack.com/reference/block-kit/block-elements#button).
MAX_BUTTON_TEXT = 75

THANKS = "Thanks, your feedback is recorded."
ASK = "Which passage answered your question, if any?"
NONE_OF_THESE = "None of these"


def choice_value(answer_id: int, rank: int) -> str:
    """The value of a choice button: ``"<answer_id>:<rank>"``."""
    return f"{answer_id}:{rank}"


def parse_choice_value(value: str | None) -> tuple[int, int]:
    """``(answer_id, rank)`` of a :func:`choice_value`.

    Raises:
        ValueError: not two integers separated by ":".
    """
    answer_id, _, rank = (value or "").partition(":")
    return int(answer_id), int(rank)


def _button(text: str, value: str) -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": shorten(text, MAX_BUTTON_TEXT), "emoji": True},
            "action_id": f"{ACTION_CHOICE}_{value.rpartition(':')[2]}", "value": value}


def render_choice(answer_id: int, hits: list[ShownHit], thanks: str = THANKS) -> Message:
    """The private follow-up to a 👎: ``thanks`` and :data:`ASK`, then one button per shown hit (``[2] Bulletin ·
    date · item 4 · ¶2``, its quote's start beside it) and "None of these"; ``thanks`` alone when no hit was shown."""
    hits = hits[:MAX_CHOICES]
    if not hits:
        return Message(escape(thanks), [section_block(escape(thanks))])
    text = f"{thanks} {ASK}"
    lines = [f"*{escape(h.label())}* — “{escape(shorten(' '.join(h.text.split()), 120))}”" for h in hits]
    buttons = [_button(h.label(MAX_BUTTON_TEXT), choice_value(answer_id, h.rank)) for h in hits]
    buttons.append(_button(NONE_OF_THESE, choice_value(answer_id, 0)))
    blocks = [section_block(escape(text)), context_block(*lines[:10]), {"type": "actions", "elements": buttons}]
    return Message(escape(text), blocks)


def render_chosen(hit: ShownHit | None) -> Message:
    """The follow-up replaced once chosen: which passage was noted (or that none answered)."""
    text = (f"Noted: {hit.label()} answered your question. Thank you." if hit is not None
            else "Noted: none of the passages answered your question. Thank you.")
    return Message(escape(text), [section_block(escape(text))])
