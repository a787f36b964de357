"""Migration statistics: the catalogue of standard tables, disclosure control, extracts and the dashboard."""
from flask import Blueprint

bp = Blueprint("statistics", __name__, url_prefix="/statistics")

from registry.statistics import views  # noqa: E402,F401
