"""Registrations: a person's intention to migrate for work, numbered, tracked through its statuses."""
from flask import Blueprint

bp = Blueprint("registration", __name__, url_prefix="/registrations")

from registry.registration import views  # noqa: E402,F401
