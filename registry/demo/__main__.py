"""The one-command demo: central (HQ) and the Beitbridge office (BBR) on SQLite, with demo data, served
locally, the office syncing with central as a real office would.

    python -m registry.demo [--registrations N] [--office-port 5000] [--central-port 5001]

Databases live in instance/demo/; a second run reuses them, issues new logins and a new office secret.
"""
import argparse
import sys
import threading

from flask_migrate import upgrade
from sqlalchemy import func, select

from registry import create_app
from registry.config import PROJECT_ROOT
from registry.core.db import command_transaction
from registry.demo.cli import (
    DEMO_OFFICE, demo_manager, ensure_demo_offices, ensure_demo_referral_targets, reset_demo_logins,
)
from registry.demo.data import DEMO_OFFICES
from registry.demo.generator import load_demo
from registry.demo.recruitment import ensure_demo_aftercare, ensure_demo_recruitment, ensure_demo_selection
from registry.extensions import db
from registry.registration.models import Registration
from registry.sync.central import issue_secret
from registry.sync.office import run_round

FOLDER = PROJECT_ROOT / "instance" / "demo"


def _app(role, office, **config):
    FOLDER.mkdir(parents=True, exist_ok=True)
    # LOG_LEVEL: one log line per request would bury the addresses and logins printed for the user.
    return create_app({"REGISTRY_ENV": "demo", "REGISTRY_ROLE": role, "OFFICE_CODE": office, "LOG_LEVEL": "WARNING",
                       "DATABASE_URL": f"sqlite:///{FOLDER / f'{role}-{office.lower()}.db'}", **config})


def _empty(office=None):
    query = select(func.count()).select_from(Registration)
    if office:
        query = query.where(Registration.office_code == office)
    return not db.session.scalar(query)


def prepare_central(registrations):
    """Central with every office, every demo user, other offices' registrations, and a secret for BBR."""
    app = _app("central", "HQ")
    with app.app_context():
        upgrade()
        with command_transaction():
            ensure_demo_offices()
            logins = reset_demo_logins()
            ensure_demo_referral_targets(demo_manager())
            ensure_demo_recruitment(demo_manager())
            secret = issue_secret(DEMO_OFFICE)
        if _empty():
            others = [code for code, *_ in DEMO_OFFICES if code not in ("HQ", DEMO_OFFICE)]
            print(f"  loading {registrations:,} registrations of {', '.join(others)} into central ...", flush=True)
            load_demo(registrations, others)
            with command_transaction():
                ensure_demo_selection(demo_manager())
                ensure_demo_aftercare(demo_manager())
    return app, logins, secret


def prepare_office(central_url, secret, registrations):
    """The office gets offices and users from central by sync, registers its own people, and sends them."""
    app = _app("office", DEMO_OFFICE, CENTRAL_URL=central_url, OFFICE_SECRET=secret, SYNC_INTERVAL_SECONDS=60)
    with app.app_context():
        upgrade()
        run_round()
        if _empty(DEMO_OFFICE):
            print(f"  loading {registrations:,} registrations into office {DEMO_OFFICE} and syncing them ...", flush=True)
            load_demo(registrations, [DEMO_OFFICE], seed=7)
            run_round()
    return app


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m registry.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=2000, help="demo registrations per node (default 2000)")
    parser.add_argument("--office-port", type=int, default=5000)
    parser.add_argument("--central-port", type=int, default=5001)
    parser.add_argument("--prepare-only", action="store_true", help="set up both databases, sync once, and exit")
    args = parser.parse_args(argv)
    if not 1 <= args.registrations <= 1_000_000:
        parser.error("--registrations must be between 1 and 1,000,000")

    from waitress import create_server

    print("Preparing the demo: central (HQ) and office BBR on SQLite ...", flush=True)
    central, logins, secret = prepare_central(args.registrations)
    central_server = create_server(central, host="127.0.0.1", port=args.central_port, threads=8)
    threading.Thread(target=central_server.run, daemon=True).start()
    central_url = f"http://127.0.0.1:{args.central_port}"
    office = prepare_office(central_url, secret, args.registrations)
    if args.prepare_only:
        central_server.close()
        return 0
    office_server = create_server(office, host="127.0.0.1", port=args.office_port, threads=8)
    threading.Thread(target=office_server.run, daemon=True).start()

    print()
    print(f"  Office BBR (Beitbridge):  http://127.0.0.1:{args.office_port}/   (syncs with central every minute)")
    print(f"  Central (head office):    {central_url}/")
    print()
    print("  Logins (each works at both addresses; the office learns them from central by sync):")
    for username, role, password in logins:
        print(f"      {role:<13} user {username:<16} password {password}")
    print("\n  Passwords change at every start. Press Ctrl+C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        for server in (office_server, central_server):
            server.close()
        print("\nStopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
