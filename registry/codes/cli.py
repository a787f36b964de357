import click
from flask.cli import AppGroup

from registry.codes.isco import IscoImportError, import_isco, read_structure_file
from registry.core.db import command_transaction

codes_cli = AppGroup("codes", help="Code lists: ISCO-08 import.")


@codes_cli.command("import-isco")
@click.argument("path", type=click.Path(dir_okay=False))
def import_isco_command(path):
    """Refresh ISCO-08 from the official structure (CSV or XLSX; ILO, ESCO or this project's layout)."""
    try:
        entries = read_structure_file(path)
        with command_transaction():
            counts = import_isco(entries)
    except IscoImportError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"nothing imported: {len(exc.problems)} problem(s) in {path}") from None
    click.echo(", ".join(f"{value} {key}" for key, value in counts.items()))
