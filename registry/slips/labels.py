"""The words printed on a slip, in English and in the office's second language (Babel message catalogues).

Messages are marked with `N_` and extracted into `translations/slips.pot` (docs/slips.md has the pybabel
commands). Each language's `.po` file is committed and compiled in memory the first time it is needed, so a
fresh clone prints translated slips with no build step, and a corrected `.po` takes effect at the next start.
"""
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DOMAIN = "slips"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
# The second languages an office may choose for its slips: Babel locale identifiers and their names.
LANGUAGES = {
    "sn": "Shona (chiShona)",
    "nd": "Ndebele (isiNdebele)",
    "st": "Sesotho",
    "pt": "Portuguese (português)",
}


def N_(message):
    """Marks a message for extraction; translated when the slip is drawn."""
    return message


TITLE = N_("Registration slip")
NUMBER = N_("Registration number")
NAME = N_("Name")
DATE_OF_BIRTH = N_("Date of birth")
SEX = N_("Sex")
SEXES = {"F": N_("Female"), "M": N_("Male")}
DESTINATION = N_("Destination")
OCCUPATION = N_("Occupation")
OFFICE = N_("Office")
REGISTERED_ON = N_("Date registered")
OFFICER = N_("Officer")
PRINTED_ON = N_("Printed on")
COPY = N_("COPY %(number)d")
CANCELLED = N_("CANCELLED")
CANCELLED_NOTE = N_("This registration has been cancelled.")
SHORT_CODE = N_("Short code")
VERIFY_NOTE = N_("Check this slip at any labour office, or type the registration number and short code "
                 "at /verify.")
RIGHTS = N_("Your rights")
RIGHTS_LINES = (
    # ILO Private Employment Agencies Convention, 1997 (No. 181), Article 7: no fees charged to workers.
    N_("Nobody may charge you a fee for finding you a job abroad."),
    N_("Keep your passport and identity documents yourself: no employer or agent may take them from you."),
    N_("Get a written contract that you understand before you travel, and keep a copy."),
    # ILO Migration for Employment Convention (Revised), 1949 (No. 97), Article 6: equal treatment.
    N_("You have the right to the same pay, hours and safety at work as local workers."),
    N_("This slip is free. If anyone asks you to pay for it, report it to the office or the helpline."),
)
HELP = N_("Where to get help")

# Referral slips
REFERRAL_TITLE = N_("Referral slip")
REFERENCE = N_("Referral reference")
REFERRED_TO = N_("Referred to")
SERVICE = N_("Service")
JOB = N_("Job")
HOURS = N_("Opening hours")
ISSUED_ON = N_("Date issued")
ATTEND_BY = N_("Attend by")
WHAT_TO_BRING = N_("What to bring")
BRING_SLIP = N_("Bring this slip and your identity document.")
REFERRAL_CANCELLED_NOTE = N_("This referral has been cancelled.")
REFERRAL_VERIFY_NOTE = N_("Show this slip when you arrive. Anyone can check it at any labour office, or by typing "
                          "the registration number and short code at /verify.")
PHONE = N_("Phone")
ADDRESS = N_("Address")


class UnknownLanguage(ValueError):
    pass


@lru_cache(maxsize=None)
def translations(language):
    """The compiled catalogue of `language` (one of LANGUAGES), or English (no translation) for None."""
    if not language:
        return NullTranslations()
    if language not in LANGUAGES:
        raise UnknownLanguage(f"Slips have no {language!r} catalogue; choose one of {', '.join(LANGUAGES)}.")
    with open(TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def country_name(code, language):
    """A country's name in `language` from the CLDR data Babel carries, or None."""
    try:
        return Locale.parse(language).territories.get(code)
    except (UnknownLocaleError, ValueError):
        return None


class Labels:
    """Translated words for one slip: `labels.both(NAME)` gives ('Name', 'Zita'), the second None in English."""

    def __init__(self, language=None):
        self.language = language or None
        self._second = translations(self.language) if self.language else None

    def second(self, message, **values):
        if self._second is None:
            return None
        text = self._second.gettext(message)
        text = text % values if values else text
        english = message % values if values else message
        return None if text == english else text

    def both(self, message, **values):
        return (message % values if values else message), self.second(message, **values)

    def joined(self, message, separator=" / ", **values):
        english, other = self.both(message, **values)
        return english if other is None else f"{english}{separator}{other}"
