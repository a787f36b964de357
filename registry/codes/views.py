"""Code lists as JSON for the offline pickers on the registration form."""
from flask import jsonify

from registry.codes import bp
from registry.codes.geography import subdivisions_of
from registry.codes.isco import all_groups
from registry.core.access import ALL_ROLES, roles_required


@bp.get("/isco.json")
@roles_required(*ALL_ROLES)
def isco_json():
    response = jsonify([{"code": code, "level": level, "title": title} for code, level, title in all_groups()])
    response.cache_control.private = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/subdivisions/<country>.json")
@roles_required(*ALL_ROLES)
def subdivisions_json(country):
    response = jsonify([{"code": code, "name": name} for code, name in subdivisions_of(country.upper())])
    response.cache_control.private = True
    response.cache_control.max_age = 86400
    return response
