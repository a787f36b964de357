"""National ID and passport numbers: validated per issuing country and stored in one compact form."""
import json
import re
from dataclasses import dataclass

from flask import current_app, has_app_context
from stdnum.za import idnr as za_idnr


@dataclass(frozen=True)
class IdShape:
    pattern: re.Pattern
    example: str
    display: str | None = None  # a re.sub template that turns the compact form into the printed one


# Zimbabwe: district of registration (2 digits), serial (6 or 7 digits), check letter, district of origin
# (2 digits), printed as `63-123456 A 78`. The check letter's algorithm is not published by the Registrar
# General, so the shape is checked, not the letter.
BUILT_IN_SHAPES = {
    "ZW": IdShape(re.compile(r"^(\d{2})(\d{6,7})([A-Z])(\d{2})$"), "63-123456 A 78", r"\1-\2 \3 \4"),
    # Botswana's Omang: 9 digits.
    "BW": IdShape(re.compile(r"^\d{9}$"), "123456789"),
}
GENERIC_SHAPE = IdShape(re.compile(r"^[A-Z0-9]{5,20}$"), "5 to 20 letters and digits")
SEPARATORS = re.compile(r"[\s\-/.]+")


def compact(raw):
    return SEPARATORS.sub("", (raw or "").strip().upper())


def _configured_shapes():
    shapes = dict(BUILT_IN_SHAPES)
    configured = current_app.config.get("NATIONAL_ID_PATTERNS") if has_app_context() else None
    if configured:
        patterns = json.loads(configured) if isinstance(configured, str) else configured
        for country, pattern in patterns.items():
            shapes[country.upper()] = IdShape(re.compile(pattern), pattern)
    return shapes


def normalise_national_id(raw, country):
    """Return the compact national ID, or raise ValueError saying what shape the country uses."""
    value = compact(raw)
    if not value:
        raise ValueError("Enter the national ID number.")
    if country == "ZA":
        # South Africa's 13-digit ID carries a date of birth and a Luhn check digit.
        if not za_idnr.is_valid(value):
            raise ValueError(f"{raw!r} is not a valid South African ID number (13 digits with a valid check digit).")
        return za_idnr.compact(value)
    shape = _configured_shapes().get(country, GENERIC_SHAPE)
    if not shape.pattern.match(value):
        raise ValueError(f"{raw.strip()!r} does not have the shape of a {country} national ID (e.g. {shape.example}).")
    return value


def display_national_id(value, country):
    shape = BUILT_IN_SHAPES.get(country)
    if value and shape and shape.display and shape.pattern.match(value):
        return shape.pattern.sub(shape.display, value)
    return value or ""


PASSPORT_RE = re.compile(r"^[A-Z0-9]{6,12}$")


def normalise_passport(raw):
    value = compact(raw)
    if not value:
        raise ValueError("Enter the passport number.")
    if not PASSPORT_RE.match(value):
        raise ValueError(f"{raw.strip()!r} is not a passport number (6 to 12 letters and digits).")
    return value
