import sys

import click
from flask.cli import AppGroup

from registry.auth.services import UserData, create_user, get_user, set_password, unlock
from registry.core.access import ALL_ROLES
from registry.core.db import command_transaction
from registry.core.errors import DomainError, ValidationFailed

users_cli = AppGroup("users", help="Manage user accounts.")


def _read_password():
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def _fail(exc):
    if isinstance(exc, ValidationFailed):
        message = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.errors.items())
    else:
        message = exc.message
    raise click.ClickException(message)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ALL_ROLES), required=True)
@click.option("--office", "office_code", required=True, help="Office code, e.g. BBR")
@click.option("--full-name", default=None, help="Defaults to the username")
def create_command(username, role, office_code, full_name):
    """Create a user; the password comes from a prompt, or from the first line of standard input."""
    password = _read_password()
    try:
        with command_transaction():
            user = create_user(UserData(username, full_name or username, role, office_code.upper()), password)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created {user.username} ({user.role} at {user.office_code})")


@users_cli.command("set-password")
@click.argument("username")
def set_password_command(username):
    """Set a user's password (prompt or standard input) and end their other sessions."""
    password = _read_password()
    try:
        with command_transaction():
            set_password(get_user(username), password)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"password set for {username}")


@users_cli.command("unlock")
@click.argument("username")
def unlock_command(username):
    """Lift a lockout after repeated failed logins."""
    with command_transaction():
        unlock(username.lower())
    click.echo(f"{username} unlocked")
