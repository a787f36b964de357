"""People: the migrant's identity, its normalisation, search and the duplicate check."""
from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")

from registry.people import views  # noqa: E402,F401
