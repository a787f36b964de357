"""Names for codes, for templates: officers read 'Limpopo', not 'ZA-LP'."""
from flask import current_app
from flask_login import current_user

from registry.codes.classifications import ISCED_LEVELS, ISIC_SECTIONS
from registry.codes.geography import country_name, language_name, subdivision_name
from registry.core.access import PERSONAL_DATA_ROLES, ROLE_LABELS
from registry.core.types import utcnow
from registry.offices.models import OFFICE_KINDS
from registry.people.identifiers import display_national_id
from registry.people.models import SEXES
from registry.people.phones import format_phone
from registry.referrals.models import REFERRAL_STATUSES, TARGET_KINDS, VACANCY_STATUSES, wage_text
from registry.registration.models import STATUSES


def _or_dash(fn):
    return lambda code: (fn(code) or code) if code else "—"


def node():
    return {"role": current_app.config["REGISTRY_ROLE"], "office": current_app.config["OFFICE_CODE"]}


def ago(moment):
    """'3 min ago', '2 h ago', '4 days ago': how fresh the office's data is, at a glance."""
    seconds = int((utcnow() - moment).total_seconds())
    if seconds < 90:
        return "just now"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def sync_badge():
    from registry.sync.office import badge

    return badge()


def sees_personal_data():
    return current_user.is_authenticated and current_user.role in PERSONAL_DATA_ROLES


TEMPLATE_GLOBALS = {"node": node, "sees_personal_data": sees_personal_data, "ROLE_LABELS": ROLE_LABELS,
                    "sync_badge": sync_badge}
TEMPLATE_FILTERS = {
    "country": _or_dash(country_name),
    "subdivision": _or_dash(subdivision_name),
    "language": _or_dash(language_name),
    "isced": _or_dash(ISCED_LEVELS.get),
    "isic": _or_dash(ISIC_SECTIONS.get),
    "sex": _or_dash(SEXES.get),
    "status": _or_dash(STATUSES.get),
    "office_kind": _or_dash(OFFICE_KINDS.get),
    "phone": format_phone,
    "national_id": lambda person: display_national_id(person.national_id, person.national_id_country),
    "datetime": lambda value: value.strftime("%Y-%m-%d %H:%M UTC") if value else "—",
    "ago": ago,
    "referral_status": _or_dash(REFERRAL_STATUSES.get),
    "referral_kind": _or_dash(TARGET_KINDS.get),
    "vacancy_status": _or_dash(VACANCY_STATUSES.get),
    "wage": wage_text,
    # A column's name as a heading: "home_district" -> "Home district" (the conflict page).
    "field_name": lambda column: column.replace("_", " ").capitalize() if column else "—",
}
