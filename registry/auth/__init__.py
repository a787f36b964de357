"""Users, roles, logging in and out, lockout after repeated failures, and user administration."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from registry.auth import views  # noqa: E402,F401
