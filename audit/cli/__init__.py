"""The `crm-audit` command: a thin click shell over `audit.pipeline` and the stages.

This package is the one place where errors become exit codes and where anything is printed.
Each command group lives in its own module; they are attached here in an explicit list.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import click

from audit.errors import EXIT_INTERNAL, AuditError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class AuditGroup(click.Group):
    """Maps AuditError to its exit code and any other exception to 4, in one line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AuditError as e:
            if ctx.params.get("debug"):
                raise
            click.echo(f"Error: {e}", err=True)
            if e.hint:
                click.echo(f"Hint: {e.hint}", err=True)
            ctx.exit(e.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # `crm-audit ... | head`: the reader went away; leave quietly like other Unix tools
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(141)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except Exception as e:
            if ctx.params.get("debug"):
                raise
            click.echo(
                f"Error: internal error ({type(e).__name__}: {e}). "
                "Re-run with --debug and report it.",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=AuditGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="crm-audit")
@click.option("--debug", is_flag=True, help="Show the traceback instead of a one-line error.")
def cli(debug: bool) -> None:
    """Audit, de-duplicate and score CRM customer data before you report KPIs.

    \b
    Quick start:
        crm-audit demo                      # generate a messy demo workspace and audit it
        crm-audit audit exports/            # audit a folder of exports, auto-detected
        crm-audit run configs/my.yaml       # audit + quality gate + KPIs (exit 1 if it fails)
    """
    if warnings.showwarning is not _show_warning:
        _ORIGINAL_SHOW.append(warnings.showwarning)
        warnings.showwarning = _show_warning


_ORIGINAL_SHOW: list[Any] = []


def _show_warning(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
    """Our own warnings (a history not used, ...) as one plain line on stderr."""
    from audit.fsio import CleanupWarning
    from audit.history import HistoryWarning

    if isinstance(category, type) and issubclass(category, (HistoryWarning, CleanupWarning)):
        click.echo(f"Warning: {message}", err=True)
    elif _ORIGINAL_SHOW:
        _ORIGINAL_SHOW[0](message, category, *args, **kwargs)


def _attach() -> None:
    from audit.cli import (
        dedupe_cmd,
        demo_cmd,
        init_cmd,
        kpis_cmd,
        merge_cmd,
        report_cmd,
        review_cmd,
        run_cmd,
        sources_cmd,
    )

    for module in (
        run_cmd,
        sources_cmd,
        dedupe_cmd,
        merge_cmd,
        review_cmd,
        kpis_cmd,
        report_cmd,
        init_cmd,
        demo_cmd,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)


_attach()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli())
