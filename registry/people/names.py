"""Names: cleaned for storage, and folded to a search key that ignores case, accents and punctuation."""
import re
import unicodedata

NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '’\-.][^\W\d_]+)*\.?$")
MAX_NAME = 80


def clean_name(raw, what="name"):
    """Collapse spaces and check the name looks like one; raise ValueError with the reason."""
    # NFC first: a keyboard may send 'e' + a combining accent, which the letters-only check would refuse.
    text = " ".join(unicodedata.normalize("NFC", raw or "").split())
    if not text:
        raise ValueError(f"Enter the {what}.")
    if len(text) > MAX_NAME:
        raise ValueError(f"The {what} is longer than {MAX_NAME} characters.")
    if not NAME_RE.match(text):
        raise ValueError(f"The {what} may hold letters, spaces, hyphens and apostrophes only.")
    if sum(ch.isalpha() for ch in text) < 2:
        raise ValueError(f"The {what} needs at least two letters.")
    return text


def name_key(text):
    """Upper-case ASCII letters and single spaces: 'Ndlovu-Mpofu' and 'NDLOVU MPOFU' share a key."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    letters = re.sub(r"[^A-Za-z]+", " ", letters)
    return " ".join(letters.upper().split())
