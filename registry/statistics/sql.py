"""SQL expressions the standard tables count with, written once for each database (SQLite and PostgreSQL), so
every table is counted in the database whichever one a node runs: ages, bands of a number (ages, days),
months and quarters of a day, days between two days, and ids as text."""
from sqlalchemy import case, func, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import Integer, String

from registry.extensions import db

NOT_STATED = "_U"  # SDMX's code for "unknown"
AGE_GROUPS = [(f"{low}-{low + 4}", low, low + 4) for low in range(15, 65, 5)] + [("65+", 65, 200)]


# Age in whole years on a date ----------------------------------------------------------------------------

class age_on(FunctionElement):
    """Completed years between a date of birth and a day (both DATE columns)."""

    type = Integer()
    inherit_cache = True


@compiles(age_on, "postgresql")
def _age_postgresql(element, compiler, **kw):
    # Dates as timestamps without a time zone: left to PostgreSQL they become timestamps with one, and age()
    # then works through the time zone for every row (twice the time over a million rows, the same years).
    born, day = (f"CAST({compiler.process(clause, **kw)} AS TIMESTAMP)" for clause in element.clauses)
    return f"CAST(date_part('year', age({day}, {born})) AS INTEGER)"


@compiles(age_on, "sqlite")
def _age_sqlite(element, compiler, **kw):
    born, day = (compiler.process(clause, **kw) for clause in element.clauses)
    return (f"(CAST(strftime('%Y', {day}) AS INTEGER) - CAST(strftime('%Y', {born}) AS INTEGER) "
            f"- (strftime('%m%d', {day}) < strftime('%m%d', {born})))")


# Days from one day to another ----------------------------------------------------------------------------

class days_between(FunctionElement):
    """Whole days from the first day to the second (both DATE columns): negative when the second comes first."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    first, last = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({last} - {first})"  # date - date is a whole number of days


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    first, last = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(julianday({last}) - julianday({first}) AS INTEGER)"


# Bands of a whole number --------------------------------------------------------------------------------

class band_of(FunctionElement):
    """The code of the band (code, lowest, highest) a whole number falls in; NOT_STATED outside every band."""

    type = String()
    inherit_cache = False  # the bands are part of the element, not a bound value

    def __init__(self, value, bands):
        self.bands = tuple(bands)
        super().__init__(value)


@compiles(band_of)
def _band(element, compiler, **kw):
    value = list(element.clauses)[0]
    return compiler.process(case(*((value.between(low, high), literal(code)) for code, low, high in element.bands),
                                 else_=literal(NOT_STATED)), **kw)


@compiles(band_of, "postgresql")
def _band_postgresql(element, compiler, **kw):
    # A CASE would work the value out again for every band it tries (for ages, age() is the dearest part of a
    # table of a million rows); width_bucket reads it once. The bands are adjacent: lowest bounds, then one
    # past the last; a value below the first or above the last, or none, is not stated.
    if any(high + 1 != low for (_, _, high), (_, low, _) in zip(element.bands, element.bands[1:])):
        return _band(element, compiler, **kw)  # bands with gaps: the plain CASE
    bounds = [low for _, low, _ in element.bands] + [element.bands[-1][2] + 1]
    codes = [NOT_STATED] + [code for code, _, _ in element.bands] + [NOT_STATED]
    quoted = ", ".join("'" + code.replace("'", "''") + "'" for code in codes)
    value = compiler.process(list(element.clauses)[0], **kw)
    return (f"coalesce((ARRAY[{quoted}]::text[])[width_bucket({value}, ARRAY[{', '.join(map(str, bounds))}]) + 1], "
            f"'{NOT_STATED}')")


def age_group(age):
    return band_of(age, AGE_GROUPS)


# Ids as text --------------------------------------------------------------------------------------------

class id_text(FunctionElement):
    """A UUID column as 32 lower-case hexadecimal digits, the same on both databases (SQLite stores it so;
    PostgreSQL writes it with hyphens), so a code read from either names the same row."""

    type = String()
    inherit_cache = True


@compiles(id_text, "postgresql")
def _id_text_postgresql(element, compiler, **kw):
    return f"replace(CAST({compiler.process(list(element.clauses)[0], **kw)} AS TEXT), '-', '')"


@compiles(id_text, "sqlite")
def _id_text_sqlite(element, compiler, **kw):
    return f"CAST({compiler.process(list(element.clauses)[0], **kw)} AS TEXT)"


# Months and quarters ------------------------------------------------------------------------------------

def month_of(day):
    return func.substr(func.cast(day, db.String), 1, 7)


def quarter_of(day):
    month = func.cast(func.substr(func.cast(day, db.String), 6, 2), Integer)
    return func.substr(func.cast(day, db.String), 1, 4).concat("-Q").concat(
        func.cast((month + 2) // 3, db.String))
