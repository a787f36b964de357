"""Statistics pages: the table catalogue, a table with its downloads, the microdata and full extracts, the
disclosure log and the dashboard. Statisticians see figures only; at an office node every figure is the
office's own."""
import csv
import io
import tempfile
from pathlib import Path

from flask import abort, current_app, jsonify, render_template, request, send_file, send_from_directory
from flask_login import current_user

from registry.config import PROJECT_ROOT
from registry.core.access import ADMIN, ALL_ROLES, STATISTICIAN, roles_required
from registry.core.errors import DomainError, ValidationFailed
from registry.core.forms import show_errors
from registry.extensions import db
from registry.statistics import bp
from registry.statistics import dashboard as charts
from registry.statistics.extracts import MEDIA_TYPES, SUFFIXES, TABLE_FORMATS, table_bytes
from registry.statistics.forms import FullExtractForm, MicrodataForm, TableForm
from registry.statistics.microdata import (
    Disclosure, MicrodataRequest, disclosure_log, write_full_extract, write_microdata,
)
from registry.statistics.publish import publish
from registry.statistics.tables import CATALOGUE, compute, date_range, make_request, parse_period


def node_office():
    """At an office node every figure is the office's own; at central, None (any office, or all)."""
    config = current_app.config
    return config["OFFICE_CODE"] if config["REGISTRY_ROLE"] == "office" else None


def _period(form):
    if (form.period.data or "").strip():
        if form.date_from.data or form.date_to.data:
            raise ValidationFailed({"period": ["Give a period or a first and last day, not both."]})
        return parse_period(form.period.data)
    if not (form.date_from.data or form.date_to.data):
        raise ValidationFailed({"period": ["Give a period (2026, 2026-Q1, 2026-03) or a first and last day."]})
    return date_range(form.date_from.data, form.date_to.data)


def _table_request(form):
    office = node_office() or form.office.data
    return make_request(form.table.data, _period(form), office, form.destination.data)


def _form_errors(form):
    return {name: list(messages) for name, messages in form.errors.items()}


@bp.get("/")
@roles_required(*ALL_ROLES)
def index():
    form = TableForm(request.args)
    if node_office():
        form.office.data = node_office()
    return render_template("statistics/index.html", form=form, catalogue=CATALOGUE, office=node_office())


@bp.get("/table")
@roles_required(*ALL_ROLES)
def table():
    form = TableForm(request.args)
    published = None
    if request.args and form.validate():
        try:
            published = publish(compute(_table_request(form)))
        except DomainError as exc:
            show_errors(form, exc)
    status = 400 if request.args and not published else 200
    return render_template("statistics/table.html", form=form, published=published, formats=TABLE_FORMATS,
                           office=node_office(), args=request.args.to_dict()), status


@bp.get("/table.<file_format>")
@roles_required(*ALL_ROLES)
def download(file_format):
    if file_format not in TABLE_FORMATS:
        abort(404)
    form = TableForm(request.args)
    if not form.validate():
        return _refused(_form_errors(form))
    try:
        published = publish(compute(_table_request(form)))
        data, manifest = table_bytes(published, file_format, run_by=current_user.username, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        return _refused(getattr(exc, "errors", {exc.field or "request": [exc.message]}))
    name = f"{published.spec.name}-{published.request.period.label.replace(' ', '_')}{SUFFIXES[file_format]}"
    return _attachment(io.BytesIO(data), MEDIA_TYPES[file_format], name, manifest)


def _refused(errors):
    messages = [message for values in errors.values() for message in values]
    return render_template("error.html", status=400, title="The extract was refused",
                           message=" ".join(messages) or "Check the filters."), 400


def _attachment(stream, media_type, name, manifest):
    response = send_file(stream, mimetype=media_type, as_attachment=True, download_name=name, conditional=False,
                         etag=False)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-SHA256"] = manifest.sha256
    return response


def _file_response(path, media_type, name, manifest):
    """Send a finished temporary file; it is removed once sent (the open handle keeps it readable)."""
    handle = open(path, "rb")
    Path(path).unlink()
    Path(path).parent.rmdir()
    return _attachment(handle, media_type, name, manifest)


def _refused_status():
    """A form sent back with its errors is a refused request (issue 5: bad input gets a 4xx)."""
    return 400 if request.method == "POST" else 200


def _filters_request(form):
    checked = make_request("outbound-sex-age", _period(form), node_office() or form.office.data,
                           form.destination.data)
    return MicrodataRequest(checked.period, checked.office, checked.destination)


@bp.route("/microdata", methods=["GET", "POST"])
@roles_required(STATISTICIAN, ADMIN)
def microdata():
    form = MicrodataForm()
    if form.validate_on_submit():
        folder = Path(tempfile.mkdtemp())
        try:
            extract = _filters_request(form)
            path = folder / f"microdata{SUFFIXES[form.format.data]}"
            manifest = write_microdata(extract, path, run_by=current_user.username, actor=current_user,
                                       file_format=form.format.data)
        except DomainError as exc:
            folder.rmdir()  # empty: a refused extract writes nothing
            show_errors(form, exc)
        else:
            db.session.commit()  # the audit event is part of the extract: kept before the file goes out
            name = f"microdata-{extract.period.label.replace(' ', '_')}{SUFFIXES[form.format.data]}"
            return _file_response(path, MEDIA_TYPES[form.format.data], name, manifest)
    return render_template("statistics/microdata.html", form=form, k=current_app.config["MICRODATA_K"],
                           office=node_office()), _refused_status()


@bp.route("/full-extract", methods=["GET", "POST"])
@roles_required(ADMIN)
def full_extract():
    form = FullExtractForm()
    if form.validate_on_submit():
        folder = Path(tempfile.mkdtemp())
        try:
            extract = _filters_request(form)
            disclosure = Disclosure(form.recipient.data, form.purpose.data, form.agreement.data)
            path = folder / f"full{SUFFIXES[form.format.data]}"
            manifest = write_full_extract(extract, disclosure, path, current_user, file_format=form.format.data)
        except DomainError as exc:
            folder.rmdir()
            show_errors(form, exc)
        else:
            db.session.commit()
            name = f"registrations-personal-data-{extract.period.label.replace(' ', '_')}{SUFFIXES[form.format.data]}"
            return _file_response(path, MEDIA_TYPES[form.format.data], name, manifest)
    return render_template("statistics/full_extract.html", form=form, office=node_office()), _refused_status()


@bp.get("/disclosures")
@roles_required(ADMIN)
def disclosures():
    return render_template("statistics/disclosures.html", events=disclosure_log())


@bp.get("/dashboard")
@roles_required(*ALL_ROLES)
def dashboard():
    return render_template("statistics/dashboard.html", charts=charts.CHARTS, office=node_office())


def _chart_or_404(key):
    try:
        return charts.chart(key, node_office())
    except KeyError:
        abort(404)


@bp.get("/vendor/chart.umd.min.js")
@roles_required(*ALL_ROLES)
def chart_library():
    """Chart.js, installed from the npm registry by `make` (package.json), served from here: no CDN."""
    folder = PROJECT_ROOT / "node_modules" / "chart.js" / "dist"
    return send_from_directory(folder, "chart.umd.min.js", mimetype="text/javascript", max_age=86400)


@bp.get("/dashboard/<key>.json")
@roles_required(*ALL_ROLES)
def chart_json(key):
    return jsonify(_chart_or_404(key).as_json())


@bp.get("/dashboard/<key>.csv")
@roles_required(*ALL_ROLES)
def chart_csv(key):
    made = _chart_or_404(key)
    text = io.StringIO()
    csv.writer(text).writerows(made.rows())
    response = send_file(io.BytesIO(text.getvalue().encode("utf-8")), mimetype="text/csv", as_attachment=True,
                         download_name=f"dashboard-{key}.csv", conditional=False, etag=False)
    response.headers["Cache-Control"] = "no-store"
    return response
