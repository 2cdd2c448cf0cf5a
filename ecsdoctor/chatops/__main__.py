"""`python -m ecsdoctor.chatops serve`: the server without going through the main CLI."""

import typer

from ecsdoctor.chatops.command import serve_cmd

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)
app.command("serve")(serve_cmd)


@app.callback()
def _root() -> None:
    """ecsdoctor ChatOps backend."""


if __name__ == "__main__":
    app()
