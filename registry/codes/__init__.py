"""Code lists: ISO 3166 and ISO 639 (from pycountry), ISCO-08, ISCED 2011 and ISIC Rev.4 sections."""
from flask import Blueprint

bp = Blueprint("codes", __name__, url_prefix="/codes")

from registry.codes import views  # noqa: E402,F401  (routes register on bp)
