"""Identity matching: records of one person made at several offices, found and linked at head office."""
from flask import Blueprint

bp = Blueprint("matching", __name__, url_prefix="/duplicates")

from registry.matching import views  # noqa: E402,F401
