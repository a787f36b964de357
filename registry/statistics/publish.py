"""A computed table made fit to publish: disclosure control applied, labels, totals, and its metadata.

What leaves the registry (a page, a CSV, an XLSX, an SDMX-style CSV) is drawn from a `PublishedTable`, so
every format shows exactly the same suppressed cells.
"""
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app

from registry.codes.classifications import ISCED_VERSION, ISIC_VERSION
from registry.codes.geography import ISO3166_VERSION
from registry.codes.isco import ISCO_VERSION
from registry.statistics.disclosure import coarsen_hint, protect
from registry.statistics.populations import COMPLAINTS, OUTBOUND, PLACEMENTS, REFERRALS, RETURNING, RETURNS
from registry.statistics.tables import CATALOGUE

SUPPRESSED_MARK = "x"
TOTAL = "Total"

DEFINITIONS = {
    OUTBOUND.key: "Registered outbound migrant workers: nationals of {home} registered at a labour office during "
                  "the period as intending to leave to work abroad (registrations later cancelled excluded). A "
                  "registration records an intention, not a confirmed departure. Each person counts once: their "
                  "latest registration in the period decides the cells; records linked as the same person count "
                  "once. Age in completed years on the day of registration.",
    RETURNING.key: "Registered returning migrant workers: nationals of {home} whose registration was marked as "
                   "returned from work abroad during the period. Each person counts once (their latest return in "
                   "the period). Country returned from: the registration's country of destination.",
    REFERRALS.key: "Referrals issued by labour offices during the period, by what they referred to and their "
                   "status at the time of the extract. A person referred twice counts twice.",
    PLACEMENTS.key: "Referrals to employers' vacancies (job orders) that ended in a placement during the period, "
                    "dated by the day the placement was recorded, which is the day the worker departed; placements "
                    "that fell through before departure (cancelled) excluded. A person placed twice counts twice. "
                    "Employer and agency: those of the job order; a job order without an agency is a direct hire.",
    RETURNS.key: "Returns recorded at a post during the period (by the day of return) of nationals of {home} back "
                 "from work abroad. Each return counts once; there is one per registration, so a person back "
                 "twice in the period, from two registrations, counts twice. Employer and agency: those "
                 "of the placement linked to the return (none when the worker left without one recorded). "
                 "Country returned from: the country of the placement's job, else the registration's country of "
                 "destination.",
    COMPLAINTS.key: "Complaints against employers or agencies received during the period (by the day received), "
                    "open or closed, with their status at the time of the extract. Each complaint counts once in a "
                    "table: under the employer it names in the tables by employer, under the agency it names in "
                    "those by agency (a complaint may name both, or only one).",
}
CODE_LISTS = (ISO3166_VERSION, ISCO_VERSION, ISCED_VERSION, ISIC_VERSION)


def format_count(value):
    return SUPPRESSED_MARK if value is None else value


@dataclass
class PublishedTable:
    counts: object  # tables.Counts
    protected: object  # disclosure.Protected, or None for a table without rows
    threshold: int

    @property
    def spec(self):
        return self.counts.spec

    @property
    def request(self):
        return self.counts.request

    @property
    def empty(self):
        return self.protected is None

    def header(self):
        return [dimension.label for dimension in self.spec.rows] + self.counts.column_labels() + [TOTAL]

    def body(self):
        """Rows of (labels..., cells..., row total), x for a suppressed value."""
        if self.empty:
            return []
        return [list(labels) + [format_count(v) for v in cells] + [format_count(total)]
                for labels, cells, total in zip(self.counts.row_labels(), self.protected.cells,
                                                self.protected.row_totals)]

    def total_row(self):
        if self.empty:
            return [TOTAL] + [""] * (len(self.spec.rows) - 1) + [0] * len(self.counts.column_keys) + [0]
        return ([TOTAL] + [""] * (len(self.spec.rows) - 1) + [format_count(v) for v in self.protected.col_totals]
                + [format_count(self.protected.grand_total)])

    def rows(self):
        return [self.header(), *self.body(), self.total_row()]

    @property
    def suppression(self):
        if self.empty:
            return f"Counts from 1 to {self.threshold - 1} are shown as x; this table is empty."
        return self.protected.describe()

    @property
    def coarser(self):
        """The standard table with a coarser breakdown, when most of this one is suppressed."""
        if self.empty or not self.spec.coarser or not coarsen_hint(self.protected):
            return None
        return CATALOGUE[self.spec.coarser]

    def metadata(self, run_by, generated_at=None):
        """(name, value) pairs: what the table is, how it was made, and what was suppressed."""
        generated_at = generated_at or datetime.now(timezone.utc)
        request = self.request
        home = current_app.config["HOME_COUNTRY"]
        return [
            ("Title", self.spec.title),
            ("Table", self.spec.name),
            ("Population", self.spec.population.label),
            ("Unit", self.spec.population.unit),
            ("Definition", " ".join(filter(None, (DEFINITIONS[self.spec.population.key].format(home=home),
                                                  self.spec.note)))),
            ("Reference area", home),
            ("Period", f"{request.period.label} ({request.period.start.isoformat()} to {request.period.end.isoformat()})"),
            ("Office", request.office or "all offices"),
            ("Destination", request.destination or "all destinations"),
            ("Suppression rule", self.suppression),
            ("Not stated", "Rows or columns headed 'Not stated' count records without that detail."),
            ("Code lists", "; ".join(CODE_LISTS)),
            ("Extracted at", generated_at.strftime("%Y-%m-%d %H:%M UTC")),
            ("Extracted by", run_by),
            ("Source", f"the registry at {current_app.config['OFFICE_CODE']} ({current_app.config['REGISTRY_ROLE']})"),
        ]


def publish(counts, threshold=None):
    """Apply disclosure control (docs/statistics.md, "Disclosure control") to computed counts."""
    threshold = threshold or current_app.config["DISCLOSURE_THRESHOLD"]
    if not counts.grid or not counts.column_keys:
        return PublishedTable(counts, None, threshold)
    return PublishedTable(counts, protect(counts.grid, threshold), threshold)
