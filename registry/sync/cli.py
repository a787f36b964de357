import click
from flask import current_app
from flask.cli import AppGroup

from registry.core.db import command_transaction
from registry.core.errors import DomainError
from registry.offices.cli import offices_cli
from registry.sync import office
from registry.sync.transport import SyncUnavailable

sync_cli = AppGroup("sync", help="Sync this office with central.")


def _office_only():
    if current_app.config["REGISTRY_ROLE"] != "office":
        raise click.ClickException("this is central; run sync commands at an office node")


@sync_cli.command("run")
def run_command():
    """One full round: push every waiting change, then pull everything new. Exit 1 with the reason on failure."""
    _office_only()
    try:
        pushed, pulled = office.run_round()
    except SyncUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"synced: {pushed} change(s) sent, {pulled} received, none waiting")


@sync_cli.command("status")
def status_command():
    """When this office last synced, what waits, and the last error."""
    _office_only()
    with command_transaction():
        state = office.status()
    for key in ("office", "central_url", "last_success_at", "last_attempt_at", "pending", "pull_cursor",
                "pushed_total", "pulled_total", "last_error"):
        value = state[key]
        click.echo(f"{key:<16} {value.isoformat() if hasattr(value, 'isoformat') else ('-' if value is None else value)}")


@offices_cli.command("issue-secret")
@click.argument("code")
def issue_secret_command(code):
    """Central: issue a new sync secret for an office (the old one stops working). Prints it as the last line."""
    from registry.sync.central import issue_secret

    if current_app.config["REGISTRY_ROLE"] != "central":
        raise click.ClickException("secrets are issued at central")
    try:
        with command_transaction():
            secret = issue_secret(code)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"New secret for {code.upper()}; set it as OFFICE_SECRET at that office:", err=True)
    click.echo(secret)


@sync_cli.command("export")
@click.option("-o", "--output", "path", required=True, type=click.Path(dir_okay=False, writable=True))
def export_command(path):
    """Office: write every waiting change to a signed file for central (when the link is down)."""
    from registry.sync.usb import ExportFileError, write_export

    _office_only()
    try:
        count = write_export(path)
    except ExportFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {count} change(s) to {path}; they stay queued here until central acknowledges them")


@sync_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
def import_command(path):
    """Central: apply an office's signed export file, with the same checks as a push."""
    from registry.sync.usb import ExportFileError, import_export

    if current_app.config["REGISTRY_ROLE"] != "central":
        raise click.ClickException("files are imported at central")
    try:
        office_code, counts = import_export(path)
    except ExportFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{office_code}: " + ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items()))
