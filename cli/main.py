"""The ``cosfire-hash`` command: a click group whose sub-commands load on demand.

Each sub-command lives in its own module and is imported only when it runs (or when
``--help`` lists it), so ``cosfire-hash --help`` never imports torch, faiss or matplotlib.
Errors that users can fix (bad files, wrong options) print one line and exit with status 1;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys

import click

__all__ = ["main", "COMMANDS"]

#: command name -> "module:function" of its click command
COMMANDS: dict[str, str] = {
    "configure": "cli.configure_cmd:configure",
    "describe": "cli.describe_cmd:describe",
    "data": "cli.data_cmd:data",
    "explain": "cli.explain_cmd:explain",
    "train": "cli.train_cmd:train",
    "index": "cli.index_cmd:index",
    "search": "cli.search_cmd:search",
    "anomalies": "cli.anomalies_cmd:anomalies",
    "evaluate": "cli.evaluate_cmd:evaluate",
    "pipeline": "cli.pipeline_cmd:pipeline",
    "tune": "cli.tune_cmd:tune",
}

#: exceptions that carry a message meant for the user
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    FileNotFoundError,
    IsADirectoryError,
    PermissionError,
    KeyError,
)


class LazyGroup(click.Group):
    """A click group that imports a sub-command's module only when it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except USER_ERRORS as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            click.echo(f"Error: {message}", err=True)
            click.echo("(run with --debug for the full traceback)", err=True)
            ctx.exit(1)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print warnings as one line on stderr, without the source location."""
    click.echo(f"warning: {message}", err=True)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(package_name="cosfire-hash")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Find morphologically similar radio galaxies with COSFIRE descriptors and hash codes.

    Typical flow: configure a filter bank from prototypes, describe images with it, train a
    hashing model, index the training set, then search or evaluate.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if not debug:
        import warnings

        warnings.showwarning = _show_warning


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
