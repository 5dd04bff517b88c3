"""`switchyard`: the command-line client of the Switchyard REST API, in kubectl's manner."""

from __future__ import annotations

import os
import sys

import click
from click.shell_completion import get_completion_class

from . import logs
from .apply import apply
from .config_cmd import config
from .delete import delete
from .describe import describe
from .diff import diff
from .errors import ApiError, Failure
from .explain_cmd import explain
from .get import events, get
from .kinds import UsageError
from .state import State, global_options
from .status import status
from .wait import WaitFailed, wait

COMPLETE_VAR = "_SWITCHYARD_COMPLETE"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@global_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Manage Switchyard intent: apply manifests, inspect objects and their convergence."""
    ctx.ensure_object(State)


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script, e.g. `source <(switchyard completion bash)`."""
    completer = get_completion_class(shell)
    assert completer is not None
    click.echo(completer(cli, {}, "switchyard", COMPLETE_VAR).source())


for command in (get, describe, apply, diff, delete, wait, status, events, config, explain):
    cli.add_command(command)


def fail(message: str, code: int = 1) -> int:
    click.echo(f"switchyard: error: {message}", err=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Every error is one line on stderr with exit code 1 (`diff`: 2); never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get(COMPLETE_VAR):  # the shell asks for completions
        return int(
            cli.main(args, "switchyard", complete_var=COMPLETE_VAR, standalone_mode=False) or 0
        )
    logs.setup(None)
    state = State()
    try:
        with cli.make_context("switchyard", args, obj=state) as ctx:
            cli.invoke(ctx)
    except (UsageError, WaitFailed) as exc:
        return fail(str(exc))
    except ApiError as exc:
        return fail(exc.line())
    except Failure as exc:
        return fail(str(exc), exc.code)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        return 0
    except click.ClickException as exc:
        return fail(exc.format_message())
    except click.exceptions.Abort:
        return fail("aborted")
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else fail(exc.code)
    finally:
        state.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
