"""The unit of work: one commit per request or command, a rollback on any error (never half-saved)."""
from contextlib import contextmanager

from flask import request

from registry.extensions import db


def finish_request(response):
    """after_request: commit what the request did if it succeeded, otherwise roll it all back."""
    if response.status_code < 400 and request.method != "HEAD":
        _commit_keeping_loaded_rows()
    else:
        db.session.rollback()
    return response


def _commit_keeping_loaded_rows():
    """Commit without expiring what the session loaded: the response is already made, and expiring would only
    make the rest of the request (the security headers ask whether the user is logged in) read the user again.
    The session itself ends with the app context, so nothing stale outlives the request."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def rollback_on_exception(exc):
    """teardown_request: an exception anywhere in the request leaves the database as it was."""
    if exc is not None:
        db.session.rollback()


@contextmanager
def command_transaction():
    """For CLI commands and scripts: commit once at the end, roll back if anything raised."""
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
