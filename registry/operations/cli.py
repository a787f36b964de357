"""`flask backup -o FILE` and `flask restore FILE` (docs/operations.md, Backup and restore)."""
from pathlib import Path

import click
from flask.cli import with_appcontext

from registry.operations.backup import BackupError, make_backup, restore_backup


@click.command("backup")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file to write (e.g. /var/backups/registry/BBR-2026-11-24.backup).")
@with_appcontext
def backup_command(output):
    """Back up this node's database while it is in use (SQLite's online backup, or pg_dump at central)."""
    if output.exists():
        raise click.ClickException(f"{output} already exists; choose a new name (backups are never overwritten)")
    if not output.parent.is_dir():
        raise click.ClickException(f"the folder {output.parent} does not exist")
    try:
        manifest = make_backup(output, progress=lambda line: click.echo(line, err=True))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written: {output} ({output.stat().st_size:,} bytes; schema {manifest.revision}; "
               f"database SHA-256 {manifest.sha256})")


@click.command("restore")
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(backup_file, yes):
    """Replace this node's database with a backup, after checking the backup is whole and this node's."""
    if not yes:
        click.confirm(f"Replace this node's database with {backup_file}? The database in use now is replaced",
                      abort=True)
    try:
        restored = restore_backup(backup_file, progress=lambda line: click.echo(line, err=True))
    except BackupError as exc:
        raise click.ClickException(f"{exc}") from None
    manifest = restored.manifest
    click.echo(f"restored the backup of {manifest.office_code} made {manifest.created_at} (schema {manifest.revision})")
    if restored.upgraded_from:
        click.echo(f"upgraded it from schema {restored.upgraded_from}")
    carried = restored.carried
    if "kept_as" in carried:
        click.echo(f"the replaced database is kept as {carried['kept_as']}; drop it once all is well")
    if manifest.role == "office":
        numbers = ", ".join(f"{key} {value}" for key, value in sorted(carried["numbers"].items())) or "none"
        click.echo(f"numbers given out before are not given out again (from {carried['source']}): "
                   f"outbox {carried['outbox_seq']}, registrations {numbers}")
        click.echo("run `flask --app wsgi sync run` now: it brings back this office's changes the backup lacks")
