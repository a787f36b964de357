"""Countries (ISO 3166-1), subdivisions (ISO 3166-2) and languages (ISO 639-3), all from pycountry."""
from functools import lru_cache
from importlib.metadata import version

import pycountry

ISO3166_VERSION = f"ISO 3166-1, ISO 3166-2 and ISO 639-3 as shipped in pycountry {version('pycountry')}"

# SADC member states: listed first, since nearly every registration names one of them.
REGIONAL_COUNTRIES = (
    "ZA", "BW", "NA", "ZM", "MZ", "MW", "LS", "SZ", "TZ", "AO", "CD", "MG", "MU", "SC", "KM", "ZW",
)

# Languages offered on the form; any ISO 639-3 code pycountry knows is accepted from sync and imports.
REGIONAL_LANGUAGES = (
    "eng", "sna", "nde", "toi", "kck", "ven", "tsn", "sot", "zul", "xho", "tso", "nya", "por", "afr",
    "swa", "bem", "loz", "fra",
)


def country_name(alpha_2):
    country = pycountry.countries.get(alpha_2=alpha_2) if alpha_2 else None
    if country is None:
        return None
    return getattr(country, "common_name", None) or country.name


@lru_cache(maxsize=1)
def country_choices():
    """(code, name) pairs: the region first, then every other country by name."""
    regional = [(code, country_name(code)) for code in REGIONAL_COUNTRIES]
    others = sorted(
        ((c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries
         if c.alpha_2 not in REGIONAL_COUNTRIES),
        key=lambda pair: pair[1],
    )
    return regional + others


def is_country(alpha_2):
    return bool(alpha_2) and pycountry.countries.get(alpha_2=alpha_2) is not None


@lru_cache(maxsize=300)
def subdivisions_of(alpha_2):
    """Top-level subdivisions of a country as (code, name) pairs, sorted by name."""
    found = pycountry.subdivisions.get(country_code=alpha_2) or []
    return tuple(sorted(((s.code, s.name) for s in found if s.parent_code is None), key=lambda p: p[1]))


def subdivision_name(code):
    subdivision = pycountry.subdivisions.get(code=code) if code else None
    return subdivision.name if subdivision else None


def is_subdivision_of(code, alpha_2):
    subdivision = pycountry.subdivisions.get(code=code) if code else None
    return subdivision is not None and subdivision.country_code == alpha_2


def language_name(code):
    language = pycountry.languages.get(alpha_3=code) if code else None
    return language.name if language else None


def is_language(code):
    return language_name(code) is not None


@lru_cache(maxsize=1)
def language_choices():
    return [(code, language_name(code)) for code in REGIONAL_LANGUAGES]
