"""The perfctl command line: parses, calls one function per command, maps errors to exit codes."""

from __future__ import annotations

import sys
from typing import Annotated

import click
import typer

from harness import __version__
from harness.errors import EXIT_CODE_TABLE, EXIT_INTERRUPTED, EXIT_USAGE, PerfctlError

_EXIT_CODES_HELP = "\n\n".join(f"{code:>3}  {meaning}" for code, meaning in EXIT_CODE_TABLE)

app = typer.Typer(
    name="perfctl",
    help=(
        "Performance testing and SLA verification: drive a target with Locust, judge every "
        "objective of sla.yaml, gate CI with the exit code, leave an HTML report."
    ),
    epilog=f"Exit codes:\n\n{_EXIT_CODES_HELP}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"perfctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Performance testing and SLA verification harness."""


# -- reference backend ----------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes behind the port.")] = 1,
    redis_url: Annotated[
        str | None, typer.Option(help="Redis URL for the shared cache tier (else in-process).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="postgresql:// URL (else embedded SQLite).")
    ] = None,
    catalog_size: Annotated[int, typer.Option(min=1, help="Products to seed.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the deterministic data generator.")] = 42,
    admin_token: Annotated[
        str | None,
        typer.Option(help="Enables the /admin fault-injection routes, guarded by this token."),
    ] = None,
) -> None:
    """Serve the reference e-commerce backend (every agent behind one gateway)."""
    from reference_backend.server import serve_backend
    from reference_backend.settings import Settings

    settings = Settings(
        host=host,
        port=port,
        workers=workers,
        redis_url=redis_url,
        database_url=database_url,
        catalog_size=catalog_size,
        seed=seed,
        admin_token=admin_token,
    )
    serve_backend(settings)


def main() -> None:
    """Entry point of the `perfctl` console script: the one place errors become exit codes."""
    try:
        result = app(standalone_mode=False)
    except PerfctlError as error:
        typer.echo(f"error: {error.message}", err=True)
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        typer.echo("error: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(result if isinstance(result, int) else 0)
