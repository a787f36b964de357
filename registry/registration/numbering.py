"""Registration numbers, unique across the network without asking central: `BBR-2026-000123-K`.

Office code, year, the office's own sequence for that year, and a check character computed with
ISO/IEC 7064 MOD 37,36 over the other characters (python-stdnum), which catches every single mistyped
character and almost every swap of two neighbours. docs/registration-numbers.md explains the choice.
"""
import re
from dataclasses import dataclass

from sqlalchemy import Integer, String, case, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from stdnum.iso7064 import mod_37_36

from registry.core.errors import DomainError
from registry.extensions import db

# The parts must stay separated (by hyphens or spaces): with optional separators a hyphen mistyped as a
# letter or digit moves a part boundary (BBR-2026-... read as office BBRH) and can pass the check.
NUMBER_RE = re.compile(r"^([A-Z]{2,5})[-\s]+(\d{4})[-\s]+(\d{6,9})[-\s]+([0-9A-Z])$")
EXAMPLE = "BBR-2026-000123-K"


class InvalidRegistrationNumber(DomainError):
    pass


@dataclass(frozen=True)
class RegistrationNumber:
    office_code: str
    year: int
    sequence: int

    @property
    def body(self):
        return f"{self.office_code}{self.year:04d}{self.sequence:06d}"

    @property
    def check(self):
        return mod_37_36.calc_check_digit(self.body)

    def __str__(self):
        return f"{self.office_code}-{self.year:04d}-{self.sequence:06d}-{self.check}"


def parse_registration_number(text):
    """Read a typed number (case and spacing forgiven); raise with a clear reason if it is wrong."""
    cleaned = " ".join((text or "").upper().split())
    if not cleaned:
        raise InvalidRegistrationNumber("Enter a registration number.")
    match = NUMBER_RE.match(cleaned)
    if not match:
        raise InvalidRegistrationNumber(f"{text.strip()!r} is not a registration number; they look like {EXAMPLE}.")
    office, year, sequence, check = match.groups()
    number = RegistrationNumber(office, int(year), int(sequence))
    if len(sequence) > 6 and sequence.startswith("0"):
        raise InvalidRegistrationNumber(f"{text.strip()!r} has too many digits in its sequence part; compare it with the slip.")
    if number.check != check:
        raise InvalidRegistrationNumber(
            f"{text.strip()!r} does not check out: one of its characters is probably mistyped. Compare it with the slip."
        )
    return number


class RegistrationSequence(db.Model):
    """This node's last used sequence per office and year. Local: never synced."""

    __tablename__ = "registration_sequence"

    office_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, nullable=False)


def next_registration_number(office_code, year):
    """Take the next number in the caller's transaction: a rollback gives nothing away twice."""
    # On the table, not the mapped class: an ORM-enabled UPDATE first looks for loaded rows to keep in step
    # (there are none: no request loads this class), which cost more than the update itself.
    sequence = RegistrationSequence.__table__
    bump = (
        update(sequence)
        .where(sequence.c.office_code == office_code, sequence.c.year == year)
        .values(last_value=sequence.c.last_value + 1)
        .returning(sequence.c.last_value)
    )
    value = db.session.execute(bump).scalar()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.add(RegistrationSequence(office_code=office_code, year=year, last_value=1))
            value = 1
        except IntegrityError:  # another request created the row first
            value = db.session.execute(bump).scalar_one()
    return RegistrationNumber(office_code, year, value)


def raise_sequence_floor(office_code, year, at_least, connection=None):
    """Never issue a number at or below `at_least` again (used after a restore or when sync shows our own
    numbers). In the session's transaction, or on `connection` (a restore prepares a database the session is
    not bound to)."""
    connection = connection if connection is not None else db.session.connection()
    table = RegistrationSequence.__table__
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(office_code=office_code, year=year, last_value=at_least)
    higher = case((statement.excluded.last_value > table.c.last_value, statement.excluded.last_value),
                  else_=table.c.last_value)
    connection.execute(statement.on_conflict_do_update(index_elements=[table.c.office_code, table.c.year],
                                                       set_={"last_value": higher}))
