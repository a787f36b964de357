"""Scoring a pair of person records: how likely they are one person, and why, in words.

Each field is compared to a level (same, spelling variant, sounds alike, typo, ..., different); each level
carries a weight, the log2 of how much more often that level is seen between two records of one person
than between records of two people (Fellegi and Sunter's record linkage). The weights are added to a prior
and turned into a score between 0 and 1; the decision comes from two thresholds. docs/matching.md says how
the weights and thresholds were chosen and what quality they give on the project's labelled synthetic set.

Names are compared in both orders (surname against surname, and surname against given names), because a
surname typed into the given-names box is one of the commonest mistakes at a busy counter.
"""
from dataclasses import dataclass, field

from rapidfuzz.distance import JaroWinkler, OSA

from registry.matching.normalise import id_digits, normalise_record

# Decisions at the default thresholds (chosen on the tuning seed; see docs/matching.md).
MATCH_THRESHOLD = 0.90
POSSIBLE_THRESHOLD = 0.50
PRIOR = -6.0  # log2 odds before any field is compared: most pairs that reach scoring are still two people

# Name levels, best first. Similarity is Jaro-Winkler on the canonical spelling.
SIMILAR_HIGH, SIMILAR_LOW = 0.90, 0.80
NAME_WEIGHTS = {
    "surname": {"same": 4.0, "variant": 3.6, "sounds": 3.2, "typo": 2.8, "part": 2.0, "close": 0.5, "differs": -4.0},
    "given": {"same": 4.5, "variant": 4.2, "sounds": 3.6, "typo": 3.2, "part": 2.8, "close": 0.5, "differs": -4.5},
}
SWAPPED_PENALTY = 0.3  # names in the other boxes: common, but straight agreement is a little more telling
DOB_WEIGHTS = {"same": 5.0, "swapped": 3.5, "typo": 3.0, "day_month": 0.5, "year": -3.0, "differs": -6.0}
SEX_WEIGHTS = {"same": 0.3, "differs": -4.0}
NATIONAL_ID_WEIGHTS = {"same": 9.0, "check_letter": 7.0, "typo": 5.0, "differs": -9.0}
PASSPORT_WEIGHTS = {"same": 8.0, "typo": 3.0, "differs": -1.5}  # passports are renewed with new numbers
PHONE_WEIGHTS = {"same": 2.0, "differs": -0.5}  # families share a phone; people change numbers
# What each decision means, in the words officers and administrators are shown.
DECISION_WORDS = {"match": "Likely the same person", "possible": "Possibly the same person",
                  "distinct": "Probably different people"}


@dataclass(frozen=True)
class Match:
    """A scored pair: score in [0, 1], the decision at the default thresholds, and the reasons in words."""

    score: float
    decision: str  # "match", "possible" or "distinct"
    reasons: list = field(default_factory=list)
    person: object = None  # the stored Person, when the pair came from the database

    @property
    def percent(self):
        return round(self.score * 100)

    @property
    def decision_words(self):
        return DECISION_WORDS[self.decision]


def decide(score, match_threshold=MATCH_THRESHOLD, possible_threshold=POSSIBLE_THRESHOLD):
    if score >= match_threshold:
        return "match"
    if score >= possible_threshold:
        return "possible"
    return "distinct"


# -- names ----------------------------------------------------------------------------------------------------

def _word_level(a, b):
    """Level and similarity of two single words given as (word, canonical, sound) triples."""
    if a[0] == b[0]:
        return "same", 1.0
    if a[1] == b[1]:
        return "variant", 1.0
    similarity = JaroWinkler.normalized_similarity(a[1], b[1])
    if a[2] == b[2]:
        return "sounds", similarity
    if similarity >= SIMILAR_HIGH or OSA.distance(a[1], b[1]) == 1:
        return "typo", similarity
    if similarity >= SIMILAR_LOW:
        return "close", similarity
    return "differs", similarity


LEVEL_ORDER = ("same", "variant", "sounds", "typo", "part", "close", "differs")


def compare_names(left, right):
    """(level, similarity) of two Name values. Several words: compared as wholes, and word by word, so a
    dropped second given name or half of a double-barrelled surname is `part`, not `differs`."""
    if left.key == right.key:
        return "same", 1.0
    if left.canonical_text == right.canonical_text:
        return "variant", 1.0
    left_words = list(zip(left.words, left.canonical, left.sounds))
    right_words = list(zip(right.words, right.canonical, right.sounds))
    whole = JaroWinkler.normalized_similarity(left.canonical_text, right.canonical_text)
    if len(left_words) == len(right_words):
        levels = [_word_level(a, b) for a, b in zip(left_words, right_words)]
        worst = max(levels, key=lambda pair: LEVEL_ORDER.index(pair[0]))
        if worst[0] not in ("close", "differs"):
            return worst
    # Different numbers of words (or words in another order): does every word of the shorter name agree
    # with some word of the longer one?
    short, long_ = sorted((left_words, right_words), key=len)
    best = [max((_word_level(a, b) for b in long_), key=lambda pair: (-LEVEL_ORDER.index(pair[0]), pair[1]))
            for a in short]
    if all(level in ("same", "variant", "sounds", "typo") for level, _ in best):
        if len(short) == len(long_):  # the same words, in another order
            return max((level for level, _ in best), key=LEVEL_ORDER.index), whole
        return "part", whole
    if whole >= SIMILAR_HIGH:
        return "typo", whole
    if whole >= SIMILAR_LOW:
        return "close", whole
    return "differs", whole


def _name_evidence(left, right):
    """Best reading of the two records' names: straight, or with surname and given names swapped."""
    straight = (compare_names(left.surname, right.surname), compare_names(left.given, right.given))
    swapped = (compare_names(left.surname, right.given), compare_names(left.given, right.surname))

    def weight(pair, penalty):
        (s_level, _), (g_level, _) = pair
        return NAME_WEIGHTS["surname"][s_level] + NAME_WEIGHTS["given"][g_level] - penalty

    straight_weight, swapped_weight = weight(straight, 0.0), weight(swapped, SWAPPED_PENALTY)
    if swapped_weight > straight_weight:
        return swapped_weight, swapped, True
    return straight_weight, straight, False


SURNAME_WORDS = {"same": "same surname", "variant": "surname is a spelling variant",
                 "sounds": "surname sounds alike", "part": "surnames share a name", "differs": "surnames differ"}
GIVEN_WORDS = {"same": "same given names", "variant": "given name is a spelling variant",
               "sounds": "given name sounds alike", "part": "one given name in common", "differs": "given names differ"}


def _name_reason(words, noun, level, similarity):
    if level in ("typo", "close"):
        return f"{noun} {similarity:.0%} similar"
    return words[level]


# -- dates, identity numbers ----------------------------------------------------------------------------------

def _one_typo(a, b):
    """Same length and one digit different, or two neighbouring digits exchanged."""
    if len(a) != len(b):
        return False
    diffs = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    if len(diffs) == 1:
        return True
    return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]


def compare_dates(left, right):
    """Level of two dates of birth: same, day and month swapped, one typo, same day and month, same year."""
    if left is None or right is None:
        return None
    if left == right:
        return "same"
    if left.year == right.year and left.day == right.month and left.month == right.day:
        return "swapped"
    if _one_typo(left.strftime("%Y%m%d"), right.strftime("%Y%m%d")):
        return "typo"
    if (left.month, left.day) == (right.month, right.day):
        return "day_month"
    if left.year == right.year:
        return "year"
    return "differs"


DATE_WORDS = {"same": "same date of birth", "swapped": "day and month of birth swapped",
              "typo": "date of birth differs by one typing slip", "day_month": "same birthday, another year",
              "year": "born in the same year, another day", "differs": "dates of birth differ"}


def compare_national_ids(left, right):
    if not left or not right:
        return None
    if left == right:
        return "same"
    if id_digits(left) and id_digits(left) == id_digits(right):
        return "check_letter"
    if OSA.distance(left, right) == 1:
        return "typo"
    return "differs"


NATIONAL_ID_WORDS = {"same": "same national ID", "check_letter": "national ID differs only in its check letter",
                     "typo": "national ID differs by one character", "differs": "national ID differs"}


def compare_passports(left, right):
    if not left or not right:
        return None
    if left == right:
        return "same"
    if OSA.distance(left, right) == 1:
        return "typo"
    return "differs"


PASSPORT_WORDS = {"same": "same passport number", "typo": "passport number differs by one character",
                  "differs": "passport numbers differ"}


def _same_or_differs(left, right):
    if not left or not right:
        return None
    return "same" if left == right else "differs"


# -- the score ------------------------------------------------------------------------------------------------

def weigh(left, right):
    """(log2 weight, reasons) of two normalised Records."""
    total, reasons = PRIOR, []
    name_weight, ((s_level, s_similarity), (g_level, g_similarity)), swapped = _name_evidence(left, right)
    total += name_weight
    if swapped:
        reasons.append("surname and given names swapped")
    reasons.append(_name_reason(SURNAME_WORDS, "surname", s_level, s_similarity))
    reasons.append(_name_reason(GIVEN_WORDS, "given name", g_level, g_similarity))

    dob = compare_dates(left.born, right.born)
    if dob is None:
        reasons.append("date of birth missing")
    else:
        total += DOB_WEIGHTS[dob]
        reasons.append(DATE_WORDS[dob])
    sex = _same_or_differs(left.sex, right.sex)
    if sex:
        total += SEX_WEIGHTS[sex]
        if sex == "differs":
            reasons.append("sex differs")
    for level, weights, words in (
            (compare_national_ids(left.national_id, right.national_id), NATIONAL_ID_WEIGHTS, NATIONAL_ID_WORDS),
            (compare_passports(left.passport, right.passport), PASSPORT_WEIGHTS, PASSPORT_WORDS)):
        if level:
            total += weights[level]
            reasons.append(words[level])
    phone = _same_or_differs(left.phone, right.phone)
    if phone:
        total += PHONE_WEIGHTS[phone]
        reasons.append("same phone number" if phone == "same" else "phone numbers differ")
    return total, reasons


def to_score(weight):
    """Log2 odds to a probability-like score in [0, 1]."""
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** -weight)


def score_pair(left, right, person=None, match_threshold=MATCH_THRESHOLD, possible_threshold=POSSIBLE_THRESHOLD):
    """Score two person records (Person rows, dicts or PersonData); raise BadRecord if one cannot be read."""
    left, right = normalise_record(left), normalise_record(right)
    weight, reasons = weigh(left, right)
    score = to_score(weight)
    return Match(score=score, decision=decide(score, match_threshold, possible_threshold), reasons=reasons,
                 person=person)

