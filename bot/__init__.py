"""The Slack side of the bulletin bot: CLI, Slack app, Block Kit rendering, digest, the bot's own state."""
