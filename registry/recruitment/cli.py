"""`flask jobs ...`: list the open job orders, write a job order's ranked shortlist as CSV."""
import csv
import io
from datetime import date

import click
from flask.cli import AppGroup

from registry.audit.services import record_event
from registry.core.db import command_transaction
from registry.core.errors import DomainError
from registry.recruitment.orders import get_job_order, open_job_orders
from registry.recruitment.shortlist import DEFAULT_LIMIT, MAX_LIMIT, build_shortlist
from registry.referrals.targets import vacancy_closed_reason
from registry.statistics.extracts import atomic_file, spreadsheet_safe

jobs_cli = AppGroup("jobs", help="Job orders: list the open ones, write a shortlist of candidates.")

SHORTLIST_FIELDS = ("registration_number", "score", "reasons")


@jobs_cli.command("list")
def list_command():
    """Open job orders (taking referrals today), one a line, id first."""
    with command_transaction():
        orders = open_job_orders()
        for order in orders:
            vacancy = order.vacancy
            where = vacancy.subdivision or vacancy.country
            click.echo(f"{vacancy.id}  {vacancy.occupation_code}  {vacancy.title} | {vacancy.employer.name} | "
                       f"{where} | starts {vacancy.starts_on.isoformat()} | {order.places_left} of "
                       f"{vacancy.places} places left")
    if not orders:
        click.echo("No job order is open.", err=True)


@jobs_cli.command("shortlist")
@click.argument("order_id")
@click.option("--limit", "-n", type=int, default=DEFAULT_LIMIT, show_default=True,
              help=f"How many candidates, best first (1 to {MAX_LIMIT}).")
@click.option("--output", "-o", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The CSV file to write (written whole or not at all).")
def shortlist_command(order_id, limit, output):
    """Write the ranked shortlist of ORDER_ID (from `flask jobs list`) as CSV: registration number, score,
    reasons."""
    if not 1 <= limit <= MAX_LIMIT:
        raise click.BadParameter(f"give a whole number from 1 to {MAX_LIMIT}, not {limit}", param_hint="--limit")
    with command_transaction():
        try:
            vacancy = get_job_order(order_id)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        closed = vacancy_closed_reason(vacancy, date.today())
        shortlist = build_shortlist(vacancy, limit=limit)
        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(SHORTLIST_FIELDS)
        for candidate in shortlist.candidates:
            writer.writerow([spreadsheet_safe(candidate.registration.registration_number), candidate.score,
                             spreadsheet_safe(candidate.reason_text)])
        try:
            with atomic_file(output) as handle:
                handle.write(text.getvalue().encode("utf-8"))
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
        record_event("recruitment.shortlist_extracted", vacancy, actor="cli", details={
            "file": str(output), "candidates": len(shortlist.candidates), "limit": limit})
    click.echo(f"{len(shortlist.candidates)} candidates for {vacancy.title} at {vacancy.employer.name} "
               f"({shortlist.places_left} of {vacancy.places} places left) written to {output}")
    if closed:
        click.echo(f"Note: no one can be referred to it now: {closed}.", err=True)
