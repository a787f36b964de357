import click
from flask.cli import AppGroup

from registry.core.db import command_transaction
from registry.core.errors import DomainError, ValidationFailed
from registry.offices.models import OFFICE_KINDS
from registry.offices.services import OfficeData, create_office, list_offices

offices_cli = AppGroup("offices", help="Manage offices.")


@offices_cli.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(list(OFFICE_KINDS)), default="district_office", show_default=True)
@click.option("--country", default="ZW", show_default=True)
@click.option("--subdivision", default=None, help="ISO 3166-2 code, e.g. ZW-MS")
def add_command(code, name, kind, country, subdivision):
    """Add an office."""
    try:
        with command_transaction():
            office = create_office(OfficeData(code, name, kind, country.upper(), subdivision))
    except ValidationFailed as exc:
        raise click.ClickException("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())) from None
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"added {office.code} {office.name}")


@offices_cli.command("list")
def list_command():
    """List offices, one a line: code, kind, name."""
    for office in list_offices():
        click.echo(f"{office.code}\t{office.kind}\t{office.name}{'' if office.active else ' (inactive)'}")
