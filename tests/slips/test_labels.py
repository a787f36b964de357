"""The slip's words: the message catalogues match the code, every language translates every message, and the
labels come out in English plus the office's second language."""
import re

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from registry.slips import labels as L

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def messages_in_code():
    return {message for _, message, _, _ in extract_from_file("python", L.__file__, keywords={"N_": None})}


def catalogue(language=None):
    path = L.TRANSLATIONS / "slips.pot" if language is None else L.TRANSLATIONS / language / "LC_MESSAGES" / "slips.po"
    with open(path, "rb") as po:
        return read_po(po, locale=language)


def test_the_template_holds_exactly_the_messages_marked_in_the_code():
    in_code = messages_in_code()
    assert len(in_code) >= 25
    assert {message.id for message in catalogue() if message.id} == in_code


@pytest.mark.parametrize("language", sorted(L.LANGUAGES))
def test_every_language_translates_every_message_keeping_its_placeholders(language):
    found = {message.id: message for message in catalogue(language) if message.id}
    assert set(found) == messages_in_code()
    for message_id, message in found.items():
        assert message.string.strip(), f"{language}: {message_id!r} is not translated"
        assert not message.fuzzy, f"{language}: {message_id!r} is marked fuzzy and would not be used"
        assert PLACEHOLDER.findall(message.string) == PLACEHOLDER.findall(message_id), (language, message_id)
    assert catalogue(language).obsolete == {}


@pytest.mark.parametrize(("language", "name", "copy", "female"), [
    ("sn", "Zita", "KOPI 3", "Mukadzi"),
    ("nd", "Ibizo", "IKHOPHI 3", "Owesifazana"),
    ("st", "Lebitso", "KOPI 3", "Mosadi"),
    ("pt", "Nome", "CÓPIA 3", "Feminino"),
])
def test_labels_come_in_english_and_the_second_language(language, name, copy, female):
    labels = L.Labels(language)
    assert labels.both(L.NAME) == ("Name", name)
    assert labels.joined(L.COPY, number=3) == f"COPY 3 / {copy}"
    assert labels.second(L.SEXES["F"]) == female
    assert all(labels.second(line) for line in L.RIGHTS_LINES)


def test_english_only_offices_get_no_second_label_and_unknown_languages_are_refused():
    assert L.Labels(None).both(L.NAME) == ("Name", None)
    assert L.Labels("").joined(L.COPY, number=2) == "COPY 2"
    with pytest.raises(L.UnknownLanguage, match="no 'xx' catalogue"):
        L.Labels("xx")


def test_country_names_come_from_babel_in_the_second_language():
    assert L.country_name("ZA", "pt") == "África do Sul"
    assert L.country_name("ZA", "st") == "Afrika Borwa"
    assert L.country_name("ZA", "zz-not-a-locale") is None
