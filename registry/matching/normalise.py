"""What two person records are compared on, in one normalised form: names, date of birth, sex, IDs, phone.

Names are folded to upper-case ASCII words (accents, case, spacing, hyphens and apostrophes no longer
matter), each word is rewritten to a canonical spelling (the regional spelling variants below), and each
canonical word gets a phonetic key (Metaphone, from jellyfish). Identity numbers use the registry's own
rules (registry.people.identifiers, registry.people.phones), so a number typed as printed on the card and
the compact stored form compare equal.

Input may be a Person row, a dict, or any object with the same attribute names (PersonData). Anything that
cannot be read raises BadRecord with one message per field, in words an officer or a CSV author can act on.
"""
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import jellyfish

from registry.people.identifiers import compact, normalise_passport
from registry.people.names import name_key
from registry.people.phones import normalise_phone

# Whole words spelled in more than one way in Zimbabwe, mapped to one spelling. The rules below already
# catch most variants; these are the ones no general rule reaches (or that a rule would over-reach).
NAME_VARIANTS = {
    "NYASA": "NYASHA",  # s / sh: a general rule would also merge Sipho with Shipo
    "TENDAYI": "TENDAI",
    "GODNOWS": "GODKNOWS",
    "SIBONGIRE": "SIBONGILE",  # Shona writes r where Ndebele writes l; as a rule it would merge too much
    "RINDIWE": "LINDIWE",
}
# Spelling rules, applied in order to each word (already upper-case ASCII). Each is a variation seen in how
# Shona and Ndebele names are written by different clerks, schools and decades.
SPELLING_RULES = (
    (re.compile(r"TSH"), "CH"),  # Ndebele tsh / Shona ch: Tshuma, Chuma
    (re.compile(r"SH"), "CH"),  # sh / ch: Shauke, Chauke; Shingai, Chingai
    # Aspirated or breathy consonants written with or without h: Ndhlovu, Mphofu, Mavhunga, Themba, Khumalo.
    (re.compile(r"(?<=[BDGKPTVMN])H"), ""),
    (re.compile(r"AYI"), "AI"),  # -ayi / -ai: Tendayi, Tendai; Kudzayi, Kudzai
    (re.compile(r"EYI"), "EI"),  # -eyi / -ei: Tsveyi, Tsvei
    (re.compile(r"(.)\1+"), r"\1"),  # doubled letters: Blessing, Blesing; Innocent, Inocent
)
MIN_LETTERS = 2


class BadRecord(ValueError):
    """A record that cannot be compared: `problems` maps a field to what is wrong with it."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(problems.values()))


def words(text):
    """Upper-case ASCII words of a name: apostrophes vanish (O'Brien is OBRIEN), hyphens and spaces split."""
    return name_key((text or "").replace("'", "").replace("\u2019", "")).split()


def canonical_word(word):
    """One spelling for a word's regional variants: TENDAYI and TENDAI, NDHLOVU and NDLOVU."""
    word = NAME_VARIANTS.get(word, word)
    for pattern, replacement in SPELLING_RULES:
        word = pattern.sub(replacement, word)
    return word


def phonetic(word):
    """Metaphone of the canonical word; the canonical word itself where Metaphone has nothing to say."""
    canonical = canonical_word(word)
    return jellyfish.metaphone(canonical) or canonical


@dataclass(frozen=True)
class Name:
    """One name field (surname, or given names) in the forms the comparison uses."""

    key: str  # upper-case ASCII words, as stored in Person.surname_key
    words: tuple  # the same, split
    canonical: tuple  # each word's canonical spelling
    sounds: tuple  # each word's phonetic key

    @property
    def canonical_text(self):
        return " ".join(self.canonical)

    @property
    def first_sound(self):
        return self.sounds[0] if self.sounds else None


@lru_cache(maxsize=100_000)  # names repeat: a scan meets the same few thousand spellings a million times
def normalise_name(text, what="name"):
    """A Name, or ValueError when the field has fewer than two letters."""
    parts = words(text)
    if sum(len(part) for part in parts) < MIN_LETTERS:
        shown = (text or "").strip()
        plural = what.endswith("names")
        if not shown:
            raise ValueError(f"the {what} {'are' if plural else 'is'} empty")
        raise ValueError(f"the {what} {shown!r} {'need' if plural else 'needs'} at least two letters")
    # Initials (a single letter) say little; the first word that is a real name carries the phonetic key.
    ordered = [part for part in parts if len(part) > 1] + [part for part in parts if len(part) == 1]
    canonical = tuple(canonical_word(part) for part in ordered)
    return Name(key=" ".join(parts), words=tuple(ordered), canonical=canonical,
                sounds=tuple(jellyfish.metaphone(word) or word for word in canonical))


def parse_date(value, what="date of birth"):
    """A date from a date or an ISO 8601 string (YYYY-MM-DD); None when blank; ValueError when impossible."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"the {what} {text!r} is not written as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"the {what} {text!r} is not a date that exists") from None


def normalise_sex(value):
    text = (value or "").strip().upper()
    if not text:
        return None
    if text in ("F", "FEMALE"):
        return "F"
    if text in ("M", "MALE"):
        return "M"
    raise ValueError(f"the sex {value.strip()!r} is not F or M")


def normalise_id(value):
    """The compact national ID (separators gone, letters upper-case), or None. The shape is not enforced:
    records from any country are compared, and a mistyped number is exactly what matching must still see."""
    text = compact(value)
    return text or None


def id_digits(national_id):
    """The digits of a national ID: a check letter typed wrongly, or left out, does not change them."""
    digits = re.sub(r"\D", "", national_id or "")
    return digits if len(digits) >= 6 else None


def normalise_passport_number(value):
    text = (value or "").strip()
    return normalise_passport(text) if text else None


def normalise_phone_number(value, region="ZW"):
    text = (value or "").strip()
    return normalise_phone(text, region or "ZW") if text else None


@dataclass(frozen=True)
class Record:
    """A person as the comparison sees it."""

    surname: Name
    given: Name
    sex: str | None
    born: date | None
    national_id: str | None
    passport: str | None
    phone: str | None
    person_id: object = None

    @property
    def id_digits(self):
        return id_digits(self.national_id)


def _field(source, *names):
    for name in names:
        if isinstance(source, dict):
            if name in source:
                return source[name]
        elif hasattr(source, name):
            return getattr(source, name)
    return None


def normalise_record(source):
    """A Record from a Person row, a dict or a PersonData; raise BadRecord naming every unusable field.

    Dict keys: surname, given_names, sex, date_of_birth, national_id, passport (or passport_number), phone,
    and optionally citizenship (the default region of a phone number written without its country code).
    """
    if isinstance(source, Record):
        return source
    if not isinstance(source, dict) and hasattr(source, "surname_key"):
        return stored_record(source)  # a Person row: validated when it was stored
    problems, values = {}, {}

    def read(field, fn):
        try:
            values[field] = fn()
        except ValueError as exc:
            problems[field] = str(exc).rstrip(".")

    read("surname", lambda: normalise_name(_field(source, "surname"), "surname"))
    read("given_names", lambda: normalise_name(_field(source, "given_names"), "given names"))
    read("sex", lambda: normalise_sex(_field(source, "sex")))
    read("date_of_birth", lambda: parse_date(_field(source, "date_of_birth")))
    read("national_id", lambda: normalise_id(_field(source, "national_id")))
    read("passport", lambda: normalise_passport_number(_field(source, "passport_number", "passport")))
    region = _field(source, "citizenship") or "ZW"
    read("phone", lambda: normalise_phone_number(_field(source, "phone"), region))
    if problems:
        raise BadRecord(problems)
    return Record(surname=values["surname"], given=values["given_names"], sex=values["sex"],
                  born=values["date_of_birth"], national_id=values["national_id"], passport=values["passport"],
                  phone=values["phone"], person_id=_field(source, "id"))


def stored_record(row):
    """A Record from a stored person (a Person, or a row with its column names): its identity numbers and
    phone were normalised when they were stored, so only the names are worked on."""
    try:
        surname = normalise_name(row.surname, "surname")
        given = normalise_name(row.given_names, "given names")
    except ValueError as exc:
        raise BadRecord({"name": str(exc)}) from None
    return Record(surname=surname, given=given, sex=row.sex, born=row.date_of_birth, national_id=row.national_id,
                  passport=row.passport_number, phone=row.phone, person_id=row.id)
