"""Offices: border posts, district offices and head office."""
from flask import Blueprint

bp = Blueprint("offices", __name__, url_prefix="/admin/offices")

from registry.offices import views  # noqa: E402,F401
