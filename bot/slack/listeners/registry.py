"""``register(app, deps)``: every Slack surface's listeners, and the global error handler, on one bolt ``App``."""

from __future__ import annotations

from . import actions, commands, feedback, mentions, messages
from .responder import Responder


def register(app, deps: Responder) -> None:
    """Attach every surface's listeners, and the global error handler, to a bolt ``App``."""
    mentions.register(app, deps)
    messages.register(app, deps)
    commands.register(app, deps)
    actions.register(app, deps)
    feedback.register(app, deps)

    def error_callback(error, body, client, respond=None):
        deps.on_error(error, body, client, respond)

    app.error(error_callback)
