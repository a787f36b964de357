"""A labelled synthetic set of record pairs, for measuring and tuning identity matching.

True pairs are one person recorded twice, the second time with the slips seen at registration counters:
typing mistakes, regional spellings, surname and given names swapped, day and month of birth swapped, a
digit of the date or the ID mistyped, a passport instead of the national ID, a dropped second given name, a
new phone, a married surname. Distinct pairs are two people who look alike for the reasons families and
villages do: siblings, twins, spouses, parents and children named after each other, cousins and neighbours
with the same names, people born on the same day.

Everything comes from one `random.Random(seed)`, so a seed always gives the same set. The tuning seed and
the reported seed differ (docs/matching.md).
"""
import random
from dataclasses import dataclass
from datetime import date, timedelta

from registry.demo import data

TUNING_SEED = 11
REPORT_SEED = 2026

EXTRA_SURNAMES = ("Ndhlovu", "Tshabalala", "Chikomba", "Mudenda", "Munthali", "Nyamayaro", "Chinembiri",
                  "Mangwiro", "Zvobgo", "Mhere", "Sibindi", "Mutizwa", "Chadya", "Nkala", "Dhliwayo", "Mawere",
                  "Kasu", "Takawira", "Mapuranga", "Madzima")
EXTRA_GIVEN_FEMALE = ("Tendayi", "Rumbidzai", "Chenai", "Yeukai", "Fungai", "Nyarai", "Tsitsi", "Rufaro",
                      "Nokuthula", "Busisiwe", "Thandeka", "Ruth", "Esther", "Faith")
EXTRA_GIVEN_MALE = ("Tafara", "Tichaona", "Tinotenda", "Tawanda", "Farai", "Nyasha", "Kudzai", "Takunda",
                    "Mandla", "Sifiso", "Lovemore", "Joseph", "Peter", "Emmanuel")
SURNAMES = tuple(sorted(set(data.SURNAMES) | set(EXTRA_SURNAMES)))
GIVEN = {"F": tuple(sorted(set(data.GIVEN_FEMALE) | set(EXTRA_GIVEN_FEMALE))),
         "M": tuple(sorted(set(data.GIVEN_MALE) | set(EXTRA_GIVEN_MALE)))}
# District codes of Zimbabwean national IDs (a sample; the first and last two digits of the number).
ID_DISTRICTS = (3, 4, 7, 8, 13, 18, 22, 24, 25, 27, 29, 32, 34, 38, 42, 43, 47, 48, 50, 56, 58, 59, 63, 66, 67,
                68, 70, 71, 75, 77, 79, 83, 84, 86)
CHECK_LETTERS = "ZABCDEFGHJKLMNPQRSTVWXY"  # the check letter of a number: its remainder modulo 23

# Spelling alternations seen in written Shona, Ndebele and English names here: (from, to) on lower case.
ALTERNATIONS = (("dh", "d"), ("d", "dh"), ("ai", "ayi"), ("ayi", "ai"), ("sh", "s"), ("ch", "sh"), ("sh", "ch"),
                ("tsh", "ch"), ("ch", "tsh"), ("ph", "p"), ("p", "ph"), ("bh", "b"), ("vh", "v"), ("v", "vh"),
                ("th", "t"), ("t", "th"), ("kh", "k"), ("ss", "s"), ("l", "r"), ("r", "l"), ("nn", "n"),
                ("ei", "eyi"), ("o", "u"), ("w", "u"), ("i", "y"), ("e", "i"))
WHOLE_VARIANTS = {"Tendai": "Tendayi", "Tendayi": "Tendai", "Nyasha": "Nyasa", "Blessing": "Blesing",
                  "Godknows": "Godnows", "Kudzai": "Kudzayi", "Ndlovu": "Ndhlovu", "Ndhlovu": "Ndlovu",
                  "Tshuma": "Chuma", "Mpofu": "Mphofu", "Khumalo": "Kumalo", "Themba": "Temba",
                  "Sibongile": "Sibongire", "Mavhunga": "Mavunga", "Mathebula": "Matebula", "Chauke": "Shauke",
                  "Dhliwayo": "Dliwayo", "Tinashe": "Tinashi", "Nokuthula": "Nokutula", "Innocent": "Inocent"}
KEYBOARD = {"a": "qswz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc", "g": "ftyhbv",
            "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop", "m": "njk", "n": "bhjm",
            "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz", "t": "rfgy", "u": "yhji", "v": "cfgb",
            "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx"}

TRUE_KINDS = {  # kind: share of true pairs
    "other_identity_document": 12, "name_typo": 14, "spelling_variant": 14, "names_swapped": 9,
    "day_month_swapped": 9, "date_typo": 9, "national_id_typo": 5, "check_letter": 4, "given_name_dropped": 7,
    "two_slips": 12, "married_surname": 3, "same_details_new_phone": 2,
}
DISTINCT_KINDS = {
    "siblings": 14, "twins": 10, "spouses": 8, "parent_child": 10, "namesakes": 12, "namesakes_same_year": 12,
    "relatives_same_name": 8, "neighbours": 10, "same_birth_date": 10, "alike_names_same_year": 6,
}


@dataclass(frozen=True)
class LabelledPair:
    left: dict
    right: dict
    same: bool
    kind: str


class _Person:
    """The truth about one synthetic person, from which records are written."""

    def __init__(self, surname, given, sex, born, district, serial, passport, phone):
        self.surname, self.given, self.sex, self.born = surname, given, sex, born
        self.district, self.serial, self.passport, self.phone = district, serial, passport, phone

    @property
    def national_id(self):
        number = f"{self.district:02d}{self.serial:07d}"
        return f"{number}{CHECK_LETTERS[int(number) % 23]}{self.district:02d}"


class SyntheticSet:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.serial = self.rng.randrange(100_000, 1_000_000)

    # -- people and their records --------------------------------------------------------------------------

    def _given(self, sex, avoid=()):
        rng = self.rng
        choices = [name for name in GIVEN[sex] if name not in avoid]
        given = rng.choice(choices)
        if rng.random() < 0.3:
            given += " " + rng.choice([name for name in choices if name != given])
        return given

    def _born(self, low=1962, high=2008):
        return date(self.rng.randrange(low, high + 1), 1, 1) + timedelta(days=self.rng.randrange(365))

    def _phone(self):
        return f"+26377{self.rng.randrange(10**6, 10**7)}" if self.rng.random() < 0.9 else None

    def person(self, *, surname=None, given=None, sex=None, born=None, district=None, phone=None):
        rng = self.rng
        sex = sex or rng.choice("FM")
        self.serial += rng.randrange(1, 200)
        return _Person(
            surname=surname or rng.choice(SURNAMES), given=given or self._given(sex), sex=sex, born=born or self._born(),
            district=district or rng.choice(ID_DISTRICTS), serial=self.serial,
            passport=f"FN{rng.randrange(100000, 999999)}" if rng.random() < 0.45 else None,
            phone=phone if phone is not None else self._phone())

    def _national_id_as_typed(self, value):
        """As a clerk types it: compact, or as printed on the card (63-1234567 A 63)."""
        if self.rng.random() < 0.5:
            return value
        return f"{value[:2]}-{value[2:-3]} {value[-3]} {value[-2:]}"

    def _phone_as_typed(self, value):
        if value and self.rng.random() < 0.5:
            return "0" + value[4:]  # the local form, 0772...
        return value

    def record(self, person, *, show_id=None, show_passport=None):
        """One registration's record of a person. Every record holds a national ID or a passport number."""
        rng = self.rng
        show_id = rng.random() < 0.7 if show_id is None else show_id
        show_passport = bool(person.passport) and (rng.random() < 0.8 if show_passport is None else show_passport)
        if not show_id and not show_passport:
            show_id = True
        return {
            "surname": person.surname, "given_names": person.given, "sex": person.sex,
            "date_of_birth": person.born, "national_id": self._national_id_as_typed(person.national_id) if show_id else "",
            "passport": person.passport if show_passport else "",
            "phone": self._phone_as_typed(person.phone) if person.phone and rng.random() < 0.85 else "",
        }

    # -- what goes wrong the second time ---------------------------------------------------------------------

    def typo(self, name):
        rng = self.rng
        letters = list(name)
        positions = [i for i, ch in enumerate(letters) if ch.isalpha() and i > 0] or [0]
        i = rng.choice(positions)
        kind = rng.choice(("substitute", "delete", "insert", "transpose"))
        lower = letters[i].lower()
        if kind == "substitute" and lower in KEYBOARD:
            replacement = rng.choice(KEYBOARD[lower])
            letters[i] = replacement.upper() if letters[i].isupper() else replacement
        elif kind == "delete" and len(name) > 3:
            del letters[i]
        elif kind == "transpose" and i + 1 < len(letters) and letters[i + 1].isalpha():
            letters[i], letters[i + 1] = letters[i + 1], letters[i]
        else:
            letters.insert(i, letters[i].lower())
        return "".join(letters)

    def variant(self, name):
        """A regional spelling of one word of the name (or a typo, where no spelling rule applies)."""
        rng = self.rng
        words = name.split(" ")
        i = rng.randrange(len(words))
        word = words[i]
        if word in WHOLE_VARIANTS and rng.random() < 0.5:
            words[i] = WHOLE_VARIANTS[word]
            return " ".join(words)
        options = [(a, b) for a, b in ALTERNATIONS if a in word.lower()[1:]]
        if not options:
            words[i] = self.typo(word)
            return " ".join(words)
        a, b = rng.choice(options)
        lower = word.lower()
        at = lower.index(a, 1)
        changed = lower[:at] + b + lower[at + len(a):]
        words[i] = changed[0].upper() + changed[1:]
        return " ".join(words)

    def date_typo(self, born):
        rng = self.rng
        text = born.strftime("%Y%m%d")
        for _ in range(50):
            digits = list(text)
            if rng.random() < 0.25:  # two neighbouring digits exchanged
                i = rng.randrange(len(digits) - 1)
                digits[i], digits[i + 1] = digits[i + 1], digits[i]
            else:
                i = rng.choice((2, 3, 4, 5, 6, 7, 7, 7, 3))  # mostly the day and the year's last digit
                digits[i] = str(rng.randrange(10))
            candidate = "".join(digits)
            try:
                typed = date(int(candidate[:4]), int(candidate[4:6]), int(candidate[6:]))
            except ValueError:
                continue
            if typed != born and 1940 <= typed.year <= 2012:
                return typed
        return born + timedelta(days=1)

    def id_typo(self, value):
        """One digit of the national ID mistyped; the check letter as on the card."""
        rng = self.rng
        digits = [i for i, ch in enumerate(value) if ch.isdigit()]
        i = rng.choice(digits)
        return value[:i] + rng.choice([d for d in "0123456789" if d != value[i]]) + value[i + 1:]

    def slip(self, first, second, kind):
        """Apply one kind of slip to `second` (a record of the same person as `first`)."""
        rng = self.rng
        if kind == "name_typo":
            field = rng.choice(("surname", "given_names"))
            second[field] = self.typo(second[field])
        elif kind == "spelling_variant":
            field = rng.choice(("surname", "given_names"))
            second[field] = self.variant(second[field])
        elif kind == "names_swapped":
            second["surname"], second["given_names"] = second["given_names"].split(" ")[0], second["surname"]
        elif kind == "day_month_swapped":
            born = second["date_of_birth"]
            if born.day <= 12 and born.day != born.month:
                second["date_of_birth"] = date(born.year, born.day, born.month)
            else:  # the clerk wrote it the other way round; only possible for a day up to 12
                day = rng.choice([d for d in range(1, 13) if d != born.month])
                first["date_of_birth"] = date(born.year, born.month, day)
                second["date_of_birth"] = date(born.year, day, born.month)
        elif kind == "date_typo":
            second["date_of_birth"] = self.date_typo(second["date_of_birth"])
        elif kind == "given_name_dropped":
            words = second["given_names"].split(" ")
            if len(words) > 1:
                second["given_names"] = rng.choice(words)
            else:
                first["given_names"] = first["given_names"] + " " + rng.choice(GIVEN[first["sex"]])
        elif kind == "married_surname":
            second["surname"] = rng.choice([name for name in SURNAMES if name != first["surname"]])
        elif kind == "same_details_new_phone":
            second["phone"] = self._phone() or ""

    # -- pairs -----------------------------------------------------------------------------------------------

    def true_pair(self, kind):
        rng = self.rng
        person = self.person(sex="F" if kind == "married_surname" else None)
        first, second = self.record(person), self.record(person)
        if kind == "other_identity_document" and person.passport:
            first, second = self.record(person, show_id=True, show_passport=False), \
                self.record(person, show_id=False, show_passport=True)
        elif kind in ("national_id_typo", "check_letter"):
            first, second = self.record(person, show_id=True), self.record(person, show_id=True)
            compact = person.national_id
            if kind == "national_id_typo":
                second["national_id"] = self.id_typo(compact)
            elif rng.random() < 0.5:
                second["national_id"] = compact[:-3] + compact[-2:]  # the letter left out
            else:
                second["national_id"] = compact[:-3] + rng.choice(CHECK_LETTERS.replace(compact[-3], "")) + compact[-2:]
        elif kind == "two_slips":
            # Two slips at once, possibly in the same field (a variant spelling, then a typing mistake in it).
            for slip in rng.choices(("name_typo", "spelling_variant", "names_swapped", "day_month_swapped",
                                     "date_typo", "given_name_dropped"), k=2):
                self.slip(first, second, slip)
        else:
            self.slip(first, second, kind)
        if rng.random() < 0.5:
            first, second = second, first
        return LabelledPair(first, second, True, kind)

    def distinct_pair(self, kind):
        rng = self.rng
        a = self.person()
        if kind == "siblings":
            b = self.person(surname=a.surname, given=self._given(rng.choice("FM"), avoid=a.given.split()),
                            born=a.born + timedelta(days=rng.choice((-1, 1)) * rng.randrange(300, 15 * 365)),
                            district=a.district, phone=a.phone if rng.random() < 0.5 else None)
        elif kind == "twins":
            b = self.person(surname=a.surname, born=a.born, district=a.district,
                            given=None, phone=a.phone if rng.random() < 0.7 else None)
            b.serial = a.serial + 1  # registered together
            while b.given.split()[0] == a.given.split()[0]:
                b.given = self._given(b.sex)
        elif kind == "spouses":
            b = self.person(surname=a.surname, sex="M" if a.sex == "F" else "F",
                            born=a.born + timedelta(days=rng.randrange(-10 * 365, 10 * 365)),
                            phone=a.phone if rng.random() < 0.7 else None)
        elif kind == "parent_child":
            given = a.given if rng.random() < 0.4 else None
            b = self.person(surname=a.surname, given=given, sex=a.sex if given else None,
                            born=a.born - timedelta(days=rng.randrange(17 * 365, 40 * 365)), district=a.district,
                            phone=a.phone if rng.random() < 0.5 else None)
        elif kind == "namesakes":
            b = self.person(surname=a.surname, given=a.given, sex=a.sex)
        elif kind == "namesakes_same_year":
            b = self.person(surname=a.surname, given=a.given.split()[0], sex=a.sex,
                            born=date(a.born.year, 1, 1) + timedelta(days=rng.randrange(365)))
        elif kind == "relatives_same_name":
            b = self.person(surname=a.surname, given=a.given.split()[0], sex=a.sex, district=a.district,
                            born=a.born + timedelta(days=rng.choice((-1, 1)) * rng.randrange(200, 4 * 365)),
                            phone=a.phone if rng.random() < 0.3 else None)
        elif kind == "neighbours":
            b = self.person(surname=a.surname, district=a.district)
        elif kind == "same_birth_date":
            b = self.person(born=a.born)
        else:  # alike_names_same_year: another family whose name is spelled like this one's, born the same year
            b = self.person(surname=self.variant(a.surname), given=a.given.split()[0], sex=a.sex,
                            born=date(a.born.year, 1, 1) + timedelta(days=rng.randrange(365)))
        return LabelledPair(self.record(a), self.record(b), False, kind)


def _kinds(rng, weights, count):
    names = list(weights)
    return rng.choices(names, weights=[weights[name] for name in names], k=count)


def generate(seed=REPORT_SEED, true_pairs=4000, distinct_pairs=8000):
    """The labelled pairs of one seed: true pairs first, then distinct pairs."""
    maker = SyntheticSet(seed)
    pairs = [maker.true_pair(kind) for kind in _kinds(maker.rng, TRUE_KINDS, true_pairs)]
    pairs += [maker.distinct_pair(kind) for kind in _kinds(maker.rng, DISTINCT_KINDS, distinct_pairs)]
    return pairs


CSV_FIELDS = ("surname", "given_names", "sex", "date_of_birth", "national_id", "passport", "phone")


def csv_row(pair):
    """The pair as a row of `flask match score`'s input (docs/matching.md)."""
    row = {}
    for side, record in (("left", pair.left), ("right", pair.right)):
        for name in CSV_FIELDS:
            value = record.get(name)
            row[f"{side}_{name}"] = value.isoformat() if isinstance(value, date) else (value or "")
    return row
