"""The `ecsdoctor serve` command (registered by cli.py); its heavy imports wait for the call."""

import os
import sys
from typing import Annotated

import typer


def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on (0: any free port).")
    ] = 8080,
    offline: Annotated[
        bool, typer.Option("--offline", help="Answer from the knowledge base only; no AWS calls.")
    ] = False,
) -> None:
    """Serve Slack slash commands (/slack/commands), a JSON API (/v1/diagnose) and /healthz."""
    try:
        import slack_sdk  # noqa: F401
    except ImportError:
        typer.echo(
            "ecsdoctor: serve needs the 'chatops' extra: pip install 'ecsdoctor-cli[chatops]'",
            err=True,
        )
        raise typer.Exit(2) from None
    import logging

    from ecsdoctor.chatops.config import Settings
    from ecsdoctor.chatops.server import make_backend, serve
    from ecsdoctor.errors import EcsDoctorError

    if not 0 <= port <= 65535:
        typer.echo(f"ecsdoctor: --port {port}: expected 0 to 65535", err=True)
        raise typer.Exit(2)
    try:
        settings = Settings.from_env(os.environ)
    except EcsDoctorError as err:
        typer.echo(f"ecsdoctor: {err}", err=True)
        raise typer.Exit(2) from None
    if not settings.slack_signing_secret and not settings.api_token:
        typer.echo(
            "ecsdoctor: set SLACK_SIGNING_SECRET and/or ECSDOCTOR_API_TOKEN: nothing to serve",
            err=True,
        )
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    def ready(url: str) -> None:
        sys.stderr.write(f"ecsdoctor: serving on {url}\n")
        sys.stderr.flush()

    try:
        serve(make_backend(settings, offline=offline), host, port, ready)
    except OSError as err:
        typer.echo(f"ecsdoctor: cannot listen on {host}:{port}: {err.strerror or err}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
