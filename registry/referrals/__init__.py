"""Referrals: a registration sent to a service (orientation, medical, passport, counselling, trafficking
support) or to an employer's vacancy, its slip, and its outcome; and the services, employers and vacancies
referrals go to."""
from flask import Blueprint

bp = Blueprint("referrals", __name__)  # referrals: personal data
targets_bp = Blueprint("targets", __name__)  # services, employers, vacancies: no personal data

from registry.referrals import target_views, views  # noqa: E402,F401
