"""The audit trail's reports, over the answer records of :mod:`bot.state` (pure: no Slack, no click).

- :mod:`.listing` — ``bulletin-bot audit``: the answers given, as a stable JSON schema or a table;
- :mod:`.replay` — ``bulletin-bot audit replay``: re-ask each recorded question on the generation in
  force now and say what changed (tier, first citation, quotes gone from their bulletin, later developments);
- :mod:`.export` — ``bulletin-bot feedback export``: 👍/👎 (and a 👎's chosen passage) as eval questions.
"""

from __future__ import annotations

from .export import ExportCounts, feedback_questions
from .listing import AUDIT_SCHEMA, audit_rows, format_audit, parse_when
from .replay import ReplayResult, format_replay, replay, summary_line

__all__ = ["AUDIT_SCHEMA", "ExportCounts", "ReplayResult", "audit_rows", "feedback_questions", "format_audit",
           "format_replay", "parse_when", "replay", "summary_line"]
