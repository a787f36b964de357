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
by `disclosure.plan_k_anonymity` from the sizes of the classes of records as recorded; records left in groups
smaller than k have their quasi-identifiers shown as *.

The CSV on PostgreSQL reads the rows once: PostgreSQL's COPY sends each registration with its six recorded
quasi-identifiers as one marked field; the rows go into an anonymous temporary file beside the extract while
their classes are counted; then the plan is made from those counts, and the temporary file is copied into
the extract with each marked field replaced by what is published for its class. Elsewhere (SQLite, XLSX)
the classes are counted by one GROUP BY and the rows then read in batches. Either way memory stays flat
whatever the number of rows. The rows are in no particular order.
"""
import csv
import hashlib
import hmac
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
MARK = b"\x1e"  # ASCII record separator, either side of a row's joined quasi-identifiers in COPY's output
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


def _joined_classes(columns):
    """The six level-0 quasi-identifiers as one text, CLASS_SEPARATOR between them (it occurs in no code)."""
    return func.concat_ws(literal(CLASS_SEPARATOR),
                          *(func.coalesce(columns[name], literal(NOT_STATED)) for name in QUASI_IDENTIFIERS))


def _class_of(joined):
    values = tuple(joined.split(CLASS_SEPARATOR))
    if len(values) != len(QUASI_IDENTIFIERS):
        raise ValueError(f"a quasi-identifier holds the separator: {joined!r}")
    return values


def plan(request, k=None):
    """Count the level-0 classes once in the database, then choose the generalisation in Python."""
    columns = _level0_columns()
    level0 = Counter()
    if db.session.get_bind().dialect.name == "postgresql":
        # One text key for the six: PostgreSQL then counts in a hash table. Grouping by the six expressions
        # makes it guess a million groups (it cannot know how few combinations occur) and sort every row
        # instead, twice as slow on a million registrations.
        key = _joined_classes(columns)
        for joined, count in db.session.execute(
                _from_registrations(select(key, func.count())).where(_conditions(request)).group_by(key)):
            level0[_class_of(joined)] += count
    else:
        groups = [columns[name].label(name) for name in QUASI_IDENTIFIERS]
        for *values, count in db.session.execute(
                _from_registrations(select(*groups, func.count())).where(_conditions(request)).group_by(*groups)):
            level0[tuple(NOT_STATED if v is None else str(v) for v in values)] += count
    return _plan(level0, k)


def _plan(level0, k=None):
    """The generalisation and suppression for records counted by their level-0 classes ({six values: n})."""
    k = k or current_app.config["MICRODATA_K"]
    return plan_k_anonymity({name: DEPTHS[name] for name in QUASI_IDENTIFIERS}, _ClassSizes(level0), k=k,
                            max_suppressed_share=MAX_SUPPRESSED_SHARE)


class _ClassSizes:
    """`class_sizes(levels)` for plan_k_anonymity: the level-0 classes' records summed by their generalised
    values, with numpy (tens of thousands of classes, tried at a dozen assignments of levels, would take
    seconds one tuple at a time). Each quasi-identifier's distinct values are numbered once; a level maps
    those numbers to the numbers of its generalised values (the HIERARCHIES functions, applied to each
    distinct value), and a class is one integer in mixed radix."""

    def __init__(self, level0):
        import numpy as np  # imported on use: it adds to every process start

        self.np = np
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
        np = self.np
        if not len(self.records):
            return {}
        key = np.zeros(len(self.records), dtype=np.int64)
        chosen = [self.levels[position][levels[name]] for position, name in enumerate(QUASI_IDENTIFIERS)]
        for codes, (mapping, names) in zip(self.codes, chosen):
            key = key * len(names) + mapping[codes]
        classes, inverse = np.unique(key, return_inverse=True)
        records = np.bincount(inverse.ravel(), weights=self.records).astype(np.int64)
        return _Sizes(np, classes, records, [names for _, names in chosen])


class _Sizes(Mapping):
    """{class: records} for one assignment of levels. The planner reads only the counts of most assignments
    it tries, so the class tuples (tens of thousands) are made only when first asked for."""

    def __init__(self, np, classes, records, names):
        self.np, self.classes, self.names = np, classes, names
        self.counts = records.tolist()
        self.sizes = None

    def values(self):
        return self.counts

    def _made(self):
        if self.sizes is None:
            classes, columns = self.classes, []
            for names in reversed(self.names):
                classes, digit = self.np.divmod(classes, len(names))
                columns.append(names[digit])
            self.sizes = dict(zip(zip(*reversed(columns)), self.counts))
        return self.sizes

    def __getitem__(self, cls):
        return self._made()[cls]

    def __iter__(self):
        return iter(self._made())

    def __len__(self):
        return len(self.counts)


def _pseudonym_sql(prefix):
    """pseudonym() in PostgreSQL: uuid.hex is uuid_send's 16 bytes in hexadecimal; the key is the first 8
    bytes of the digest, in hex."""
    key_text = func.encode(func.uuid_send(person_key()), "hex")
    prefix = literal(prefix) if isinstance(prefix, str) else prefix  # or an SQL expression giving it
    digest = func.sha256(func.convert_to(prefix + key_text, "UTF8"))
    return func.encode(func.substring(digest, 1, 8), "hex")


def _month():
    return func.substr(func.cast(Registration.registered_on, db.String), 1, 7)


def _industry():
    return func.coalesce(Registration.intended_sector, literal(NOT_STATED))


def _rows_query(request, chosen, prefix):
    """The microdata rows, quasi-identifiers generalised, suppression not yet applied."""
    columns = _level0_columns()
    person = _pseudonym_sql(prefix) if db.session.get_bind().dialect.name == "postgresql" else person_key()
    generalised = [_sql_level(name, chosen.levels[name], columns[name]).label(name) for name in QUASI_IDENTIFIERS]
    return _from_registrations(select(
        person.label("person_key"), _month().label("month"), Registration.office_code.label("office"),
        Registration.status.label("status"), *generalised, _industry().label("industry"),
    )).where(_conditions(request))


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
    """Write the k-anonymous pseudonymised microdata (CSV or XLSX) to `path`; return its Manifest (audited).
    `progress(rows)` is called as rows are read from the database (CSV on PostgreSQL) or written (otherwise);
    the total is known only at the end."""
    from datetime import datetime, timezone

    _check_extract_format(file_format)
    prefix = pseudonym_prefix()
    generated = datetime.now(timezone.utc)
    with atomic_file(path) as binary:
        if file_format == "csv" and db.session.get_bind().dialect.name == "postgresql":
            chosen, rows = _copy_postgresql(request, prefix, k, binary, Path(path).parent, progress)
        else:
            chosen = plan(request, k)
            sink = (_CsvSink(binary, MICRODATA_COLUMNS) if file_format == "csv"
                    else _XlsxSink(binary, MICRODATA_COLUMNS, "Microdata"))
            rows = _write_python(_rows_query(request, chosen, prefix), chosen, prefix, sink, progress)
            sink.close(_metadata("Pseudonymised microdata: registrations of nationals", request, run_by, generated,
                                 chosen.describe()))
    notes = chosen.describe()
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


def _copy_postgresql(request, prefix, k, binary, folder, progress):
    """The CSV in one reading of the rows; returns (plan, rows).

    COPY sends each registration with its pseudonymous key worked out by PostgreSQL and its six recorded
    quasi-identifiers joined into one field between two MARKs. That goes into an anonymous temporary file
    beside the extract (no name, so nothing is left behind even if the process dies) while the marked
    fields are counted: the level-0 classes. The plan comes from those counts, so it describes exactly the
    rows written. Then the temporary file is copied into the extract, each marked field replaced by the six
    values published for its class, in bulk: split at the marks, every second piece looked up."""
    connection = db.session.connection()
    columns = _level0_columns()
    marked = func.concat(literal(MARK.decode()), _joined_classes(columns), literal(MARK.decode()))
    # COPY takes no server-side parameters: psycopg would quote the pseudonym secret into the statement's
    # text, where pg_stat_activity and the server's log could show it. It travels instead as a bound
    # parameter into a setting of this transaction, which the statement reads.
    connection.execute(text("SELECT set_config('registry.pseudonym_prefix', :prefix, true)"), {"prefix": prefix})
    secret = func.current_setting("registry.pseudonym_prefix", type_=db.String)
    query = _from_registrations(select(
        _pseudonym_sql(secret), _month(), Registration.office_code, Registration.status, marked, _industry(),
    )).where(_conditions(request))
    statement = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    level0 = Counter()
    rows = 0
    # Most of PostgreSQL's work here is the person key's SHA-256, which its planner prices like any function:
    # it sees no gain in spreading the rows over parallel workers. Told that passing rows between processes
    # costs next to nothing, it hashes in its workers (as many as the server allows) while this one writes.
    connection.execute(text("SET LOCAL parallel_setup_cost = 0"))
    connection.execute(text("SET LOCAL parallel_tuple_cost = 0.001"))
    with tempfile.TemporaryFile(dir=folder) as spool:
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor:
            # COPY sends a message a row; gathering them saves a million calls to write and count.
            buffer = bytearray()
            with cursor.copy(f"COPY ({statement.string}) TO STDOUT WITH (FORMAT csv)", statement.params) as copy:
                for row in _copied_rows(raw, copy):
                    buffer += row
                    if len(buffer) >= COPY_BUFFER:
                        rows += _spool(buffer, spool, level0, progress)
            rows += _spool(buffer, spool, level0, progress, last=True)
        connection.execute(text("RESET parallel_setup_cost"))
        connection.execute(text("RESET parallel_tuple_cost"))
        classes = {joined: _class_of(joined.decode()) for joined in level0}
        chosen = _plan({classes[joined]: count for joined, count in level0.items()}, k)
        published = _published(classes, chosen)
        binary.write((",".join(MICRODATA_COLUMNS) + "\r\n").encode())
        spool.seek(0)
        rest = b""
        while block := spool.read(COPY_BUFFER):
            end = block.rfind(b"\n") + 1
            pieces = (rest + block[:end]).split(MARK)
            rest = block[end:]
            pieces[1::2] = [published[joined] for joined in pieces[1::2]]
            binary.write(b"".join(pieces))
        if rest:
            raise ValueError("the temporary copy of the rows ends without a line break")
    return chosen, rows


def _copied_rows(connection, copy):
    """The rows of a COPY ... TO STDOUT under way on `copy` (a psycopg Copy) and its psycopg connection.

    psycopg's own reading takes a generator round trip a row (a microsecond, a second for a million rows);
    rows libpq has already received are taken from it directly, and psycopg is asked only when libpq has
    none yet: it waits for more, and at the end collects COPY's result. Should libpq report the end
    itself, that result is collected here as psycopg would (an error in it raised)."""
    from psycopg import errors, pq

    pgconn = connection.pgconn
    take = pgconn.get_copy_data
    while True:
        size, row = take(1)  # 1: do not wait
        if size > 0:
            yield row
        elif size == 0:  # nothing received yet
            row = copy.read()
            if not row:
                return
            yield row
        else:  # the end of the data
            results = []
            while (result := pgconn.get_result()) is not None:
                results.append(result)
            for result in results:
                if result.status != pq.ExecStatus.COMMAND_OK:
                    raise errors.error_from_result(result, encoding=connection.info.encoding)
            return


def _spool(buffer, spool, level0, progress, last=False):
    """Move the whole lines of `buffer` into the temporary file, counting their classes; return how many."""
    end = len(buffer) if last else buffer.rfind(b"\n") + 1
    data = bytes(buffer[:end])
    del buffer[:end]
    lines = data.count(b"\n")
    pieces = data.split(MARK)
    if len(pieces) != 2 * lines + 1 or (last and data and not data.endswith(b"\n")):
        # Codes hold neither the mark nor a line break; were one to, the rows could not be told apart safely.
        raise ValueError("a value in the microdata holds a line break or the character U+001E")
    spool.write(data)
    level0.update(pieces[1::2])
    if progress and lines:
        progress(lines)
    return lines


def _published(classes, chosen):
    """{joined level-0 class, as COPY sent it: the six values published for it, as CSV fields}, from
    {joined: its six values}. Each distinct value is generalised and quoted once."""
    levels = [HIERARCHIES[name][chosen.levels[name]] for name in QUASI_IDENTIFIERS]
    generalised = [{} for _ in QUASI_IDENTIFIERS]  # for each quasi-identifier, recorded value: published
    fields = {}  # published value: as a CSV field
    starred = ",".join([SUPPRESSED] * len(QUASI_IDENTIFIERS)).encode()
    published = {}
    for joined, values in classes.items():
        shown = []
        for seen, level, value in zip(generalised, levels, values):
            if value not in seen:
                seen[value] = level(value)
            shown.append(seen[value])
        shown = tuple(shown)
        if shown in chosen.suppressed_classes:
            published[joined] = starred
            continue
        for value in shown:
            if value not in fields:
                fields[value] = _csv_field(value)
        published[joined] = ",".join([fields[value] for value in shown]).encode()
    return published


def _csv_field(value):
    """A value as COPY (FORMAT csv) and the csv module write it: quoted when it holds a comma, a quote or a
    line break (no code does)."""
    if "," in value or '"' in value or "\r" in value or "\n" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


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

