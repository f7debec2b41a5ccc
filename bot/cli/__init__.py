"""``bulletin-bot``: the command line, one click group built from the command modules.

- :mod:`.commands`: ``ingest``, ``ask``, ``stats``, ``serve``, ``digest``, ``doctor``;
- :mod:`.evaluation`: ``eval``, ``export-onnx``; :mod:`.audit`: ``audit``, ``audit replay``, ``feedback export``;
  :mod:`.subscriptions`: ``subscriptions``; :mod:`.timeline`: ``timeline``;
- :mod:`.options`: what every command shares (``--data-dir``, ``--model``, ``-v``, the encoder, logging);
- :mod:`.formatting`: the human-readable output.

The command modules import :mod:`.options` only, never this module: the group is built here, from them.
"""

from __future__ import annotations

import click

from . import audit, commands, evaluation, subscriptions, timeline

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="bulletin-bot")
def main() -> None:
    """Answer questions from regulatory bulletins with verbatim, cited quotes."""


for _command in (commands.ingest, commands.ask, commands.stats, commands.serve, commands.digest, commands.doctor,
                 evaluation.eval_command, evaluation.export_onnx_command, subscriptions.subscriptions_command,
                 timeline.timeline_command, audit.audit_command, audit.feedback_group):
    main.add_command(_command)
