"""`flask extract ...`: list the standard tables, extract one, the pseudonymised microdata, or (for an
administrator) the full extract with personal data. Exit status 0 when the file is written; non-zero with
a one-line reason otherwise, and then no file is left behind."""
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from registry.auth.models import User
from registry.core.db import command_transaction
from registry.core.errors import DomainError
from registry.extensions import db
from registry.people.models import Person
from registry.registration.models import Registration
from registry.statistics.extracts import TABLE_FORMATS, write_manifest, write_table
from registry.statistics.microdata import (
    Disclosure, MicrodataRequest, write_full_extract, write_microdata,
)
from registry.statistics.publish import publish
from registry.statistics.tables import CATALOGUE, compute, date_range, make_request, parse_period

DAY = click.DateTime(formats=["%Y-%m-%d"])


class TableGroup(AppGroup):
    """`flask extract TABLE ...` runs the hidden `table` command for any name that is not a subcommand."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "table", self.commands["table"], args
        return super().resolve_command(ctx, args)


extract_cli = TableGroup("extract", help="Statistical tables and data extracts (docs/statistics.md).")


def _period(date_from, date_to, period):
    if period:
        if date_from or date_to:
            raise click.UsageError("give either --period or --from and --to, not both")
        return parse_period(period)
    if not (date_from and date_to):
        raise click.UsageError("give --from and --to (YYYY-MM-DD), or --period (2026, 2026-Q1, 2026-03)")
    return date_range(date_from.date(), date_to.date())


def _message(exc):
    return getattr(exc, "messages", [str(exc)])


def _refuse(exc):
    return click.ClickException(" ".join(_message(exc)))


def _filters(function):
    for option in reversed((
        click.option("--from", "date_from", type=DAY, help="first day, YYYY-MM-DD"),
        click.option("--to", "date_to", type=DAY, help="last day, YYYY-MM-DD"),
        click.option("--period", help="instead of --from/--to: a year (2026), quarter (2026-Q1) or month (2026-03)"),
        click.option("--office", help="one office only (what it means for each table: docs/statistics.md)"),
        click.option("--destination", help="one country of destination only (ISO 3166-1, e.g. ZA)"),
        click.option("-o", "--output", "path", required=True, type=click.Path(dir_okay=False, path_type=Path)),
    )):
        function = option(function)
    return function


@contextmanager
def _extract(path):
    """Run an extract in one transaction. Files are written under temporary names and renamed when whole;
    if anything fails after that (the commit of the audit event, say), the new files are removed again, so
    a failed command leaves no file that looks finished. A file that was there before is never touched
    unless the extract completed and replaced it."""
    for target in (Path(path), Path(f"{path}.manifest.json")):
        if target.is_dir():
            raise click.ClickException(f"{target} is a folder: give a file name with -o.")
    if not Path(path).parent.is_dir():
        raise click.ClickException(f"There is no folder {Path(path).parent}: create it first.")
    written = []
    try:
        with command_transaction():
            yield written.append
    except BaseException as exc:
        for leftover in written:
            Path(leftover).unlink(missing_ok=True)
        if isinstance(exc, DomainError):
            raise _refuse(exc) from None
        raise


@extract_cli.command("list")
def list_command():
    """The standard tables: name, population and title."""
    for name, spec in CATALOGUE.items():
        click.echo(f"{name:<36} {spec.population.unit:<10} {spec.title}")


@extract_cli.command("table", hidden=True)
@click.argument("table")
@_filters
@click.option("--format", "file_format", type=click.Choice(list(TABLE_FORMATS)), default="csv", show_default=True)
def table_command(table, date_from, date_to, period, office, destination, path, file_format):
    """Extract one standard table (see `flask extract list`)."""
    with _extract(path) as wrote:
        request = make_request(table, _period(date_from, date_to, period), office, destination)
        published = publish(compute(request))
        manifest = write_table(published, path, file_format, run_by="command line")
        wrote(path)
        wrote(write_manifest(manifest, path))
    click.echo(f"wrote {path} ({manifest.rows} rows, sha256 {manifest.sha256[:16]}...); {published.suppression}")
    if published.coarser:
        click.echo(f"most of this table is suppressed: try {published.coarser.name}")


def _count(request):
    conditions = [Registration.deleted_at.is_(None),
                  Registration.registered_on.between(request.period.start, request.period.end)]
    if request.office:
        conditions.append(Registration.office_code == request.office)
    if request.destination:
        conditions.append(Registration.destination_country == request.destination)
    return db.session.scalar(select(func.count()).select_from(Registration).join(Person).where(*conditions)) or 0


class _RowCount:
    """The rows read so far, on one line of the terminal (shown only when standard error is one)."""

    def __init__(self):
        self.rows = 0
        self.shown = sys.stderr.isatty()

    def __call__(self, rows):
        self.rows += rows
        if self.shown:
            click.echo(f"\rRows: {self.rows:,}", nl=False, err=True)

    def done(self):
        if self.shown and self.rows:
            click.echo(err=True)


EXTRACT_FORMAT = click.option("--format", "file_format", type=click.Choice(["csv", "xlsx"]), default="csv",
                              show_default=True)


@extract_cli.command("microdata")
@_filters
@EXTRACT_FORMAT
def microdata_command(date_from, date_to, period, office, destination, path, file_format):
    """Pseudonymised, k-anonymous microdata of nationals' registrations, as CSV or XLSX."""
    with _extract(path) as wrote:
        checked = make_request("outbound-sex-age", _period(date_from, date_to, period), office, destination)
        request = MicrodataRequest(checked.period, checked.office, checked.destination)
        # A running count, not a bar: knowing the total beforehand would cost a query over every registration
        # in the period.
        rows = _RowCount()
        try:
            manifest = write_microdata(request, path, run_by="command line", progress=rows,
                                       file_format=file_format)
        finally:
            rows.done()
        wrote(path)
        wrote(write_manifest(manifest, path))
    click.echo(f"wrote {path} ({manifest.rows:,} rows, sha256 {manifest.sha256[:16]}...); {manifest.notes}")


@extract_cli.command("full")
@_filters
@click.option("--by", "username", required=True, help="the administrator responsible for this disclosure")
@click.option("--recipient", required=True, help="who receives the data, e.g. a partner ministry or IOM")
@click.option("--purpose", required=True, help="what the data is for")
@click.option("--agreement", required=True, help="the data-sharing agreement it is given under")
@EXTRACT_FORMAT
def full_command(date_from, date_to, period, office, destination, path, username, recipient, purpose, agreement,
                 file_format):
    """Registrations with personal data, for an administrator; recorded in the disclosure log."""
    with _extract(path) as wrote:
        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None or not actor.active or actor.role != "admin":
            raise DomainError(f"{username!r} is not an active administrator: only administrators make extracts "
                              "with personal data.")
        checked = make_request("outbound-sex-age", _period(date_from, date_to, period), office, destination)
        request = MicrodataRequest(checked.period, checked.office, checked.destination)
        with click.progressbar(length=_count(request), label="Rows", show_pos=True) as bar:
            manifest = write_full_extract(request, Disclosure(recipient, purpose, agreement), path, actor,
                                          progress=bar.update, file_format=file_format)
        wrote(path)
        wrote(write_manifest(manifest, path))
    click.echo(f"wrote {path} ({manifest.rows:,} rows with personal data, sha256 {manifest.sha256[:16]}...); "
               "recorded in the disclosure log")

