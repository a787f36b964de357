"""`flask slips ...`: print one slip or a day's batch, check a payload, and manage the office's signing keys."""
from pathlib import Path

import click
from flask.cli import AppGroup

from registry.core.db import command_transaction
from registry.core.errors import DomainError
from registry.slips import keys
from registry.slips.services import print_batch, print_slip, registrations_for_batch, void_slip
from registry.slips.verification import NotASlip, Verdict, verify_payload, verify_typed

slips_cli = AppGroup("slips", help="Print and check registration slips; manage the office's signing keys.")

LAYOUT = click.Choice(["a4", "receipt"])
# Exit status of `slips verify` for each verdict; 2 is click's own for bad usage and for input that is no slip.
EXIT_STATUS = {Verdict.GENUINE: 0, Verdict.ALTERED: 1, Verdict.UNKNOWN: 3, Verdict.REVOKED: 4}
NOT_A_SLIP = 2


def _write(path, data):
    """Write the PDF next to its final name, then rename: a failed command never leaves half a file."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(data)
    partial.replace(target)


def _refuse(exc):
    return click.ClickException(getattr(exc, "message", str(exc)))


@slips_cli.command("print")
@click.argument("number")
@click.option("--layout", type=LAYOUT, default="a4", show_default=True)
@click.option("-o", "--output", "path", required=True, type=click.Path(dir_okay=False, writable=True))
def print_command(number, layout, path):
    """Print one registration's slip (the original, or COPY n) to a PDF file."""
    try:
        with command_transaction():
            pdf, issued = print_slip(number, None, layout)
            _write(path, pdf)  # inside the transaction: no record without its file
    except DomainError as exc:
        raise _refuse(exc) from None
    record = issued.record
    copy = f"COPY {record.copy_number}" if record.copy_number else "original"
    click.echo(f"printed {record.registration_number} ({copy}, short code {record.short_code}) to {path}")


@slips_cli.command("batch")
@click.option("--office", "office_code", help="the office whose registrations of --date to print")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--layout", type=LAYOUT, default="a4", show_default=True)
@click.option("-o", "--output", "path", required=True, type=click.Path(dir_okay=False, writable=True))
@click.argument("numbers", nargs=-1)
def batch_command(office_code, on, layout, path, numbers):
    """Print every slip of an office's day (--office, --date), or of the NUMBERS given, into one PDF."""
    if numbers and (office_code or on):
        raise click.UsageError("give either --office and --date, or registration numbers, not both")
    if not numbers and not (office_code and on):
        raise click.UsageError("give --office and --date, or registration numbers")
    try:
        with command_transaction():
            registrations = registrations_for_batch(office_code, on.date() if on else None, list(numbers))
            pdf, issued = print_batch(registrations, None, layout)
            _write(path, pdf)
    except DomainError as exc:
        raise _refuse(exc) from None
    copies = sum(1 for slip in issued if slip.record.copy_number)
    click.echo(f"printed {len(issued)} slip(s) ({copies} of them copies) to {path}")


@slips_cli.command("verify")
@click.argument("payload")
@click.option("--code", "short_code", help="with a registration number instead of a payload: its short code")
def verify_command(payload, short_code):
    """Check a slip: its scanned PAYLOAD (RS1:...), or a registration number with --code. Prints one line;
    exit 0 when genuine, 1 altered, 3 unknown, 4 revoked, 2 when the input is no slip code."""
    try:
        with command_transaction():
            if short_code is not None:
                result = verify_typed(payload, short_code)
            else:
                result = verify_payload(payload)
    except NotASlip as exc:
        click.echo(f"invalid: {exc.message}", err=True)
        raise SystemExit(NOT_A_SLIP) from None
    if result.genuine:
        click.echo(result.line())
        return
    click.echo(result.line(), err=True)
    raise SystemExit(EXIT_STATUS[result.verdict])


@slips_cli.command("void")
@click.argument("number")
@click.argument("short_code")
@click.option("--reason", required=True, help="why the slip is void (shown when it is checked)")
def void_command(number, short_code, reason):
    """Put one printed slip on the revocation list."""
    from registry.registration.services import get_registration

    try:
        with command_transaction():
            registration = get_registration(number)
            void_slip(registration, short_code, reason)
    except DomainError as exc:
        raise _refuse(exc) from None
    click.echo(f"slip {short_code.upper()} of {registration.registration_number} is void")


@slips_cli.command("new-key")
@click.option("--revoke-old", is_flag=True, help="also revoke the keys replaced: every slip they signed answers "
                                                 "'revoked' (for a key that was stolen or copied)")
@click.option("--reason", help="why the old keys are revoked (required with --revoke-old)")
def new_key_command(revoke_old, reason):
    """Make a new signing key for this office; the old one signs no more slips."""
    try:
        with command_transaction():
            key, old = keys.rotate_key(revoke_old=revoke_old, reason=reason)
    except DomainError as exc:
        raise _refuse(exc) from None
    for retired in old:
        click.echo(f"retired {retired.key_id}{' and revoked it' if revoke_old else ''}")
    click.echo(f"new key {key.key_id} for {key.office_code}")


@slips_cli.command("revoke-key")
@click.argument("key_id")
@click.option("--reason", required=True)
def revoke_key_command(key_id, reason):
    """Revoke a signing key: every slip it signed answers 'revoked', at every office after sync."""
    try:
        with command_transaction():
            keys.revoke_key(key_id, reason)
    except DomainError as exc:
        raise _refuse(exc) from None
    click.echo(f"revoked key {key_id.lower()}")


@slips_cli.command("keys")
def keys_command():
    """Every signing key known here: office, id, created, and whether retired, revoked, or held here."""
    with command_transaction():
        rows = keys.list_keys()
        for key, revoked, local in rows:
            state = "revoked" if revoked else ("retired" if key.retired_at else "in use")
            click.echo(f"{key.office_code}\t{key.key_id}\t{key.created_at:%Y-%m-%d}\t{state}"
                       f"{chr(9) + 'private key here' if local else ''}")
    if not rows:
        click.echo("no signing keys yet; the first print makes one", err=True)

