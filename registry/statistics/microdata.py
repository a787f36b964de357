"""Pseudonymised microdata for statisticians, k-anonymous; and the full extract with personal data, for
administrators only, recorded in the disclosure log.

Microdata has one row per registration of a national in the period: a pseudonymous person key (the first
16 hex digits of SHA-256 over a secret and the person's id: the same person has the same key in every extract
made with the same secret, and the key cannot be turned back into an id without it), the month, office and
status, and six quasi-identifiers: sex, age group (not the date of birth), home province, country of
destination, occupation and education; plus the intended industry. No names, ID or passport numbers,
phones or free text.

k-anonymity: the six quasi-identifiers are generalised (age in 10-year groups, occupation at a coarser ISCO
level, destination as SADC or elsewhere, education in broad levels, or removed) as little as needed, chosen
by `disclosure.plan_k_anonymity` from the class sizes counted once in the database; records left in groups
smaller than k have their quasi-identifiers shown as *. The file is streamed (PostgreSQL's COPY where the
database is PostgreSQL), so memory stays flat whatever the number of rows.
"""
import csv
import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass

import numpy as np
from flask import current_app
from sqlalchemy import and_, case, func, literal, select, text

from registry.audit.services import record_event
from registry.codes.geography import REGIONAL_COUNTRIES
from registry.core.errors import ValidationFailed
from registry.extensions import db
from registry.people.models import Person
from registry.registration.models import Registration
from registry.statistics.disclosure import SUPPRESSED, plan_k_anonymity
from registry.statistics.extracts import Manifest, _filters, _text_stream, atomic_file, spreadsheet_safe
from registry.statistics.tables import NOT_STATED, age_group, age_on, person_key

MAX_SUPPRESSED_SHARE = 0.02
SADC, ELSEWHERE = "SADC", "OTHER"
QUASI_IDENTIFIERS = ("sex", "age_group", "home_area", "destination", "occupation", "education")
TEN_YEARS = {f"{low}-{low + 4}": f"{low - (low - 15) % 10}-{low - (low - 15) % 10 + 9}" for low in range(15, 65, 5)}
BROAD_EDUCATION = {"0": "0-2", "1": "0-2", "2": "0-2", "3": "3-4", "4": "3-4", "5": "5-8", "6": "5-8", "7": "5-8",
                   "8": "5-8"}
CLASS_SEPARATOR = "\x1f"  # ASCII unit separator, between quasi-identifiers in one key while counting classes
COPY_BUFFER = 1 << 20  # bytes of COPY's output gathered before each write to the file
MICRODATA_COLUMNS = ("person_key", "month", "office", "status", *QUASI_IDENTIFIERS, "industry")


# Generalisation hierarchies: level 0 as recorded, the top level "*". Each level has a Python function (to
# count classes from the level-0 counts) and an SQL expression (to write the rows) that agree.

def _same(value):
    return value


def _star(_value):
    return SUPPRESSED


HIERARCHIES = {
    "sex": (_same, _star),
    "age_group": (_same, lambda v: TEN_YEARS.get(v, v), _star),
    "home_area": (_same, _star),
    "destination": (_same, lambda v: SADC if v in REGIONAL_COUNTRIES and v != "ZW" else ELSEWHERE, _star),
    "occupation": (_same, lambda v: v[:2] if v != NOT_STATED else v, lambda v: v[:1] if v != NOT_STATED else v,
                   _star),
    "education": (_same, lambda v: BROAD_EDUCATION.get(v, v), _star),
}
DEPTHS = {name: len(levels) - 1 for name, levels in HIERARCHIES.items()}


def _sql_level(name, level, column):
    """The SQL expression of `column` generalised to `level` of its hierarchy (matching HIERARCHIES)."""
    if level >= DEPTHS[name]:
        return literal(SUPPRESSED)
    if level == 0:
        return column
    if name == "age_group":
        return case(*((column == five, literal(ten)) for five, ten in TEN_YEARS.items()), else_=column)
    if name == "destination":
        regional = [code for code in REGIONAL_COUNTRIES if code != "ZW"]
        return case((column.in_(regional), literal(SADC)), else_=literal(ELSEWHERE))
    if name == "occupation":
        return case((column == NOT_STATED, column), else_=func.substr(column, 1, 3 - level))
    if name == "education":
        return case(*((column == code, literal(broad)) for code, broad in BROAD_EDUCATION.items()), else_=column)
    raise ValueError(f"{name} has no level {level}")


@dataclass(frozen=True)
class MicrodataRequest:
    period: object  # tables.Period
    office: str | None = None
    destination: str | None = None

    def filters(self):
        return _filters(self)


def pseudonym_prefix():
    """The secret that keys person keys: PSEUDONYM_SECRET, or one derived from SECRET_KEY."""
    configured = current_app.config.get("PSEUDONYM_SECRET")
    if configured:
        return configured
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"registry pseudonymous person key",
                    hashlib.sha256).hexdigest()


def pseudonym(prefix, person_uuid):
    return hashlib.sha256((prefix + person_uuid.hex).encode()).hexdigest()[:16]


def _level0_columns():
    day = Registration.registered_on
    return {
        "sex": Person.sex,
        "age_group": age_group(age_on(Person.date_of_birth, day)),
        "home_area": func.coalesce(Person.home_subdivision, literal(NOT_STATED)),
        "destination": Registration.destination_country,
        "occupation": func.coalesce(Registration.occupation_code, literal(NOT_STATED)),
        "education": func.coalesce(Person.education_level, literal(NOT_STATED)),
    }


def _conditions(request):
    conditions = [Registration.deleted_at.is_(None), Person.deleted_at.is_(None),
                  Registration.registered_on.between(request.period.start, request.period.end),
                  Person.citizenship == current_app.config["HOME_COUNTRY"]]
    if request.office:
        conditions.append(Registration.office_code == request.office)
    if request.destination:
        conditions.append(Registration.destination_country == request.destination)
    return and_(*conditions)


def _from_registrations(query):
    return query.select_from(Registration).join(Person, Person.id == Registration.person_id)


def plan(request, k=None):
    """Count the level-0 classes once in the database, then choose the generalisation in Python."""
    k = k or current_app.config["MICRODATA_K"]
    columns = _level0_columns()
    level0 = Counter()
    if db.session.get_bind().dialect.name == "postgresql":
        # One text key for the six: PostgreSQL then counts in a hash table. Grouping by the six expressions
        # makes it guess a million groups (it cannot know how few combinations occur) and sort every row
        # instead, twice as slow on a million registrations. The separator occurs in no code.
        key = func.concat_ws(literal(CLASS_SEPARATOR),
                             *(func.coalesce(columns[name], literal(NOT_STATED)) for name in QUASI_IDENTIFIERS))
        for joined, count in db.session.execute(
                _from_registrations(select(key, func.count())).where(_conditions(request)).group_by(key)):
            values = tuple(joined.split(CLASS_SEPARATOR))
            if len(values) != len(QUASI_IDENTIFIERS):
                raise ValueError(f"a quasi-identifier holds the separator: {joined!r}")
            level0[values] += count
    else:
        groups = [columns[name].label(name) for name in QUASI_IDENTIFIERS]
        for *values, count in db.session.execute(
                _from_registrations(select(*groups, func.count())).where(_conditions(request)).group_by(*groups)):
            level0[tuple(NOT_STATED if v is None else str(v) for v in values)] += count
    class_sizes = _ClassSizes(level0)
    return plan_k_anonymity({name: DEPTHS[name] for name in QUASI_IDENTIFIERS}, class_sizes, k=k,
                            max_suppressed_share=MAX_SUPPRESSED_SHARE)


class _ClassSizes:
    """`class_sizes(levels)` for plan_k_anonymity: the level-0 classes' records summed by their generalised
    values, with numpy (tens of thousands of classes, tried at a dozen assignments of levels, would take
    seconds one tuple at a time). Each quasi-identifier's distinct values are numbered once; a level maps
    those numbers to the numbers of its generalised values (the HIERARCHIES functions, applied to each
    distinct value), and a class is one integer in mixed radix."""

    def __init__(self, level0):
        classes = list(level0)
        self.records = np.fromiter(level0.values(), dtype=np.int64, count=len(classes))
        self.codes, self.levels = [], []
        for position, name in enumerate(QUASI_IDENTIFIERS):
            values = sorted({key[position] for key in classes})
            number = {value: n for n, value in enumerate(values)}
            self.codes.append(np.fromiter((number[key[position]] for key in classes), dtype=np.int64,
                                          count=len(classes)))
            levels = []
            for function in HIERARCHIES[name]:
                generalised = [function(value) for value in values]
                names = sorted(set(generalised))
                index = {value: n for n, value in enumerate(names)}
                levels.append((np.array([index[value] for value in generalised], dtype=np.int64),
                               np.array(names, dtype=object)))
            self.levels.append(levels)

    def __call__(self, levels):
        if not len(self.records):
            return {}
        key = np.zeros(len(self.records), dtype=np.int64)
        chosen = [self.levels[position][levels[name]] for position, name in enumerate(QUASI_IDENTIFIERS)]
        for codes, (mapping, names) in zip(self.codes, chosen):
            key = key * len(names) + mapping[codes]
        classes, inverse = np.unique(key, return_inverse=True)
        records = np.bincount(inverse.ravel(), weights=self.records).astype(np.int64)
        columns = []
        for _, names in reversed(chosen):
            classes, digit = np.divmod(classes, len(names))
            columns.append(names[digit])
        return dict(zip(zip(*reversed(columns)), records.tolist()))


def _rows_query(request, chosen, prefix):
    """The microdata rows, quasi-identifiers generalised, suppression not yet applied."""
    columns = _level0_columns()
    key = person_key()
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        # uuid.hex is uuid_send's 16 bytes in hexadecimal; the key is the first 8 bytes of the digest, in hex.
        key_text = func.encode(func.uuid_send(key), "hex")
        digest = func.sha256(func.convert_to(literal(prefix) + key_text, "UTF8"))
        person = func.encode(func.substring(digest, 1, 8), "hex")
    else:
        person = key  # hashed in Python
    generalised = [_sql_level(name, chosen.levels[name], columns[name]).label(name) for name in QUASI_IDENTIFIERS]
    return _from_registrations(select(
        person.label("person_key"), func.substr(func.cast(Registration.registered_on, db.String), 1, 7).label("month"),
        Registration.office_code.label("office"), Registration.status.label("status"), *generalised,
        func.coalesce(Registration.intended_sector, literal(NOT_STATED)).label("industry"),
    )).where(_conditions(request)).order_by(Registration.registered_on, Registration.registration_number)


EXTRACT_FORMATS = ("csv", "xlsx")


class _CsvSink:
    def __init__(self, binary, header):
        self.stream = _text_stream(binary)
        self.writer = csv.writer(self.stream)
        self.writer.writerow(header)

    def rows(self, rows):
        self.writer.writerows(rows)

    def close(self, metadata):
        self.stream.detach()


class _XlsxSink:
    """A workbook streamed into the file row by row (registry.statistics.xlsx: openpyxl's own writer takes
    about 30 microseconds a cell, 50 s for 100,000 rows of the full extract), so memory stays flat."""

    def __init__(self, binary, header, title):
        from registry.statistics.xlsx import StreamingWorkbook

        self.book = StreamingWorkbook(binary)
        self.sheet = self.book.sheet(title)
        self.sheet.append(list(header))

    def rows(self, rows):
        for row in rows:
            self.sheet.append(row)

    def close(self, metadata):
        info = self.book.sheet("Metadata")
        for name, value in metadata:
            info.append([name, value])
        self.book.close()


def _check_extract_format(file_format):
    if file_format not in EXTRACT_FORMATS:
        from registry.statistics.extracts import ExtractRefused

        raise ExtractRefused(f"There is no format {file_format!r} for this extract: choose csv or xlsx.",
                             field="format")


def _metadata(title, request, run_by, generated, notes):
    from registry.statistics.publish import CODE_LISTS

    return [("Title", title), ("Period", f"{request.period.label} ({request.period.start} to {request.period.end})"),
            ("Office", request.office or "all offices"), ("Destination", request.destination or "all destinations"),
            ("Disclosure control", notes), ("Code lists", "; ".join(CODE_LISTS)),
            ("Extracted at", generated.strftime("%Y-%m-%d %H:%M UTC")), ("Extracted by", run_by),
            ("Source", f"the registry at {current_app.config['OFFICE_CODE']} ({current_app.config['REGISTRY_ROLE']})")]


def write_microdata(request, path, run_by, actor=None, progress=None, k=None, file_format="csv"):
    """Write the k-anonymous pseudonymised microdata (CSV or XLSX) to `path`; return its Manifest (audited)."""
    from datetime import datetime, timezone

    _check_extract_format(file_format)
    chosen = plan(request, k)
    prefix = pseudonym_prefix()
    query = _rows_query(request, chosen, prefix)
    generated = datetime.now(timezone.utc)
    notes = chosen.describe()
    with atomic_file(path) as binary:
        if file_format == "csv" and db.session.get_bind().dialect.name == "postgresql":
            rows = _copy_postgresql(query, chosen, binary, progress)
        else:
            sink = (_CsvSink(binary, MICRODATA_COLUMNS) if file_format == "csv"
                    else _XlsxSink(binary, MICRODATA_COLUMNS, "Microdata"))
            rows = _write_python(query, chosen, prefix, sink, progress)
            sink.close(_metadata("Pseudonymised microdata: registrations of nationals", request, run_by, generated,
                                 notes))
    manifest = Manifest("microdata", "pseudonymised registrations of nationals (registry.statistics.microdata)",
                        request.filters(), file_format, rows, binary.digest.hexdigest(), binary.size, run_by,
                        generated.isoformat(timespec="seconds"), getattr(path, "name", str(path)), notes)
    record_event("extract.created", None, actor=actor or run_by, details=manifest.as_dict())
    return manifest


def _suppress(row, chosen, positions):
    key = tuple(row[i] for i in positions)
    if key in chosen.suppressed_classes:
        row = list(row)
        for i in positions:
            row[i] = SUPPRESSED
    return row


def _write_python(query, chosen, prefix, sink, progress):
    positions = [MICRODATA_COLUMNS.index(name) for name in QUASI_IDENTIFIERS]
    rows = 0
    result = db.session.execute(query.execution_options(yield_per=5000))
    for batch in result.partitions():
        out = []
        for row in batch:
            key = row[0] if isinstance(row[0], str) else pseudonym(prefix, row[0])  # PostgreSQL hashes in SQL
            row = [key, *(NOT_STATED if v is None else v for v in row[1:])]
            out.append(_suppress(row, chosen, positions))
        sink.rows(out)
        rows += len(out)
        if progress:
            progress(len(out))
    return rows


def _copy_postgresql(query, chosen, binary, progress):
    """COPY (the query, small classes blanked through a temporary table) TO STDOUT, straight into the file."""
    connection = db.session.connection()
    connection.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS microdata_suppressed "
                            "(sex text, age_group text, home_area text, destination text, occupation text, "
                            "education text) ON COMMIT DROP"))
    connection.execute(text("TRUNCATE microdata_suppressed"))
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy("COPY microdata_suppressed FROM STDIN") as copy:
            for key in chosen.suppressed_classes:
                copy.write_row(key)
        names = ", ".join(f"rows.{name}" for name in ("person_key", "month", "office", "status"))
        blanked = ", ".join(f"CASE WHEN rows.suppressed THEN '{SUPPRESSED}' ELSE rows.{name} END" for name in
                            QUASI_IDENTIFIERS)
        classes = ", ".join(f"ordered.{name}" for name in QUASI_IDENTIFIERS)
        query = query.add_columns(Registration.registered_on.label("sort_on"),
                                  Registration.registration_number.label("sort_number"))
        # Bound parameters (the pseudonym secret among them) go to psycopg, never into the statement's text.
        # render_postcompile: an IN list (destination generalised to SADC) becomes plain bound parameters.
        inner = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
        # The rows in order, each value worked out once (OFFSET 0 keeps PostgreSQL from copying the age and
        # hash expressions into every outer use, where they would be computed again); whether the row's class
        # is suppressed, one probe of a hashed set; then the blanking. The order carries through both levels,
        # so there is one sort, and no join whose plan could go wrong on a table without statistics.
        sql = (f"COPY (SELECT {names}, {blanked}, rows.industry FROM ("
               f"SELECT ordered.*, ({classes}) IN (SELECT {', '.join(QUASI_IDENTIFIERS)} FROM microdata_suppressed) "
               f"AS suppressed FROM ({inner.string} OFFSET 0) AS ordered "
               "ORDER BY ordered.sort_on, ordered.sort_number OFFSET 0) AS rows "
               "ORDER BY rows.sort_on, rows.sort_number) TO STDOUT WITH (FORMAT csv)")
        binary.write((",".join(MICRODATA_COLUMNS) + "\r\n").encode())
        # COPY sends a message a row; gathering them saves a million calls to write, hash and count.
        rows = 0
        buffer = bytearray()
        with cursor.copy(sql, inner.params) as copy:
            for chunk in copy:
                buffer += chunk
                if len(buffer) >= COPY_BUFFER:
                    rows += _flush(buffer, binary, progress)
        rows += _flush(buffer, binary, progress)
    return rows


def _flush(buffer, binary, progress):
    """Write what COPY sent so far to the file and empty the buffer; return the rows it held."""
    data = bytes(buffer)
    buffer.clear()
    binary.write(data)
    lines = data.count(b"\n")
    if progress and lines:
        progress(lines)
    return lines


# The full extract, with personal data ---------------------------------------------------------------------

FULL_COLUMNS = (
    ("registration_number", Registration.registration_number), ("registered_on", Registration.registered_on),
    ("office", Registration.office_code), ("status", Registration.status),
    ("status_changed_on", Registration.status_changed_on), ("surname", Person.surname),
    ("given_names", Person.given_names), ("sex", Person.sex), ("date_of_birth", Person.date_of_birth),
    ("citizenship", Person.citizenship), ("national_id", Person.national_id),
    ("passport_number", Person.passport_number), ("phone", Person.phone),
    ("home_province", Person.home_subdivision), ("home_district", Person.home_district),
    ("education", Person.education_level), ("destination", Registration.destination_country),
    ("destination_subdivision", Registration.destination_subdivision),
    ("occupation", Registration.occupation_code), ("industry", Registration.intended_sector),
    ("employer", Registration.employer_name), ("agency", Registration.agency_name),
)


@dataclass(frozen=True)
class Disclosure:
    """Who receives a full extract, why, and under which data-sharing agreement."""

    recipient: str
    purpose: str
    agreement: str

    def checked(self):
        errors = {}
        values = {}
        for name, label in (("recipient", "who receives the data (e.g. a partner ministry or IOM)"),
                            ("purpose", "what the data is for"),
                            ("agreement", "the data-sharing agreement it is given under")):
            value = " ".join((getattr(self, name) or "").split())
            if len(value) < 3:
                errors[name] = [f"Say {label}."]
            elif len(value) > 200:
                errors[name] = ["Keep this under 200 characters."]
            values[name] = value
        if errors:
            raise ValidationFailed(errors)
        return Disclosure(**values)


def write_full_extract(request, disclosure, path, actor, progress=None, file_format="csv"):
    """Every registration in the filter with its person's personal data, for an administrator, recorded in
    the disclosure log (an `extract.disclosed` audit event) with the recipient, purpose and agreement."""
    from datetime import datetime, timezone

    from registry.core.access import ADMIN
    from registry.core.errors import Forbidden

    if getattr(actor, "role", None) != ADMIN:
        raise Forbidden("Only administrators make extracts with personal data.")
    _check_extract_format(file_format)
    disclosure = disclosure.checked()
    conditions = [Registration.deleted_at.is_(None), Person.deleted_at.is_(None),
                  Registration.registered_on.between(request.period.start, request.period.end)]
    if request.office:
        conditions.append(Registration.office_code == request.office)
    if request.destination:
        conditions.append(Registration.destination_country == request.destination)
    query = _from_registrations(select(*(column.label(name) for name, column in FULL_COLUMNS))).where(
        and_(*conditions)).order_by(Registration.registered_on, Registration.registration_number)
    generated = datetime.now(timezone.utc)
    run_by = getattr(actor, "username", None) or str(actor)
    notes = "none: personal data, disclosed under the agreement named"
    with atomic_file(path) as binary:
        header = [name for name, _ in FULL_COLUMNS]
        sink = _CsvSink(binary, header) if file_format == "csv" else _XlsxSink(binary, header, "Registrations")
        rows = 0
        for batch in db.session.execute(query.execution_options(yield_per=5000)).partitions():
            sink.rows([["" if v is None else spreadsheet_safe(v) for v in row] for row in batch])
            rows += len(batch)
            if progress:
                progress(len(batch))
        metadata = _metadata("Registrations with personal data", request, run_by, generated, notes)
        sink.close(metadata + [("Recipient", disclosure.recipient), ("Purpose", disclosure.purpose),
                               ("Data-sharing agreement", disclosure.agreement)])
    manifest = Manifest("full", "registrations with personal data (registry.statistics.microdata)",
                        request.filters(), file_format, rows, binary.digest.hexdigest(), binary.size, run_by,
                        generated.isoformat(timespec="seconds"), getattr(path, "name", str(path)), notes)
    details = manifest.as_dict()
    details.update(recipient=disclosure.recipient, purpose=disclosure.purpose, agreement=disclosure.agreement)
    record_event("extract.disclosed", None, actor=actor, details=details)
    return manifest


def disclosure_log(limit=200):
    """Every full extract: who, when, which filter, to whom, why, under which agreement."""
    from registry.audit.models import AuditEvent

    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "extract.disclosed")
                              .order_by(AuditEvent.at.desc()).limit(limit)).all()

