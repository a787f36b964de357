"""The one-command demo: central (HQ) and one office (BBR) on SQLite, with demo data, served locally.

    python -m registry.demo [--registrations N] [--office-port 5000] [--central-port 5001]

Databases live in instance/demo/; a second run reuses them and only prints fresh logins.
"""
import argparse
import sys
import threading

from flask_migrate import upgrade
from sqlalchemy import func, select

from registry import create_app
from registry.config import PROJECT_ROOT
from registry.core.db import command_transaction
from registry.demo.cli import ensure_demo_offices, reset_demo_logins
from registry.demo.generator import load_demo
from registry.extensions import db
from registry.registration.models import Registration

NODES = (("central", "HQ"), ("office", "BBR"))


def prepare(role, office, registrations):
    folder = PROJECT_ROOT / "instance" / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    app = create_app({
        "REGISTRY_ENV": "demo", "REGISTRY_ROLE": role, "OFFICE_CODE": office,
        "DATABASE_URL": f"sqlite:///{folder / f'{role}-{office.lower()}.db'}",
    })
    with app.app_context():
        upgrade()
        with command_transaction():
            ensure_demo_offices()
            logins = reset_demo_logins()
        if not db.session.scalar(select(func.count()).select_from(Registration)):
            offices = [office] if role == "office" else ["BBR", "CHR", "MSV", "HRE", "PLM"]
            print(f"  loading {registrations:,} demo registrations into {role} ({office}) ...", flush=True)
            load_demo(registrations, offices)
    return app, logins


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m registry.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=2000, help="demo registrations per node (default 2000)")
    parser.add_argument("--office-port", type=int, default=5000)
    parser.add_argument("--central-port", type=int, default=5001)
    parser.add_argument("--prepare-only", action="store_true", help="set up the databases and exit")
    args = parser.parse_args(argv)
    if not 1 <= args.registrations <= 1_000_000:
        parser.error("--registrations must be between 1 and 1,000,000")

    print("Preparing the demo (central HQ and office BBR, SQLite) ...", flush=True)
    central, central_logins = prepare("central", "HQ", args.registrations)
    office, office_logins = prepare("office", "BBR", args.registrations)
    if args.prepare_only:
        return 0

    from waitress import create_server

    servers = [
        create_server(office, host="127.0.0.1", port=args.office_port, threads=8),
        create_server(central, host="127.0.0.1", port=args.central_port, threads=8),
    ]
    for server in servers:
        threading.Thread(target=server.run, daemon=True).start()

    print()
    print(f"  Office BBR (Beitbridge):  http://127.0.0.1:{args.office_port}/")
    for username, role, password in office_logins:
        print(f"      {role:<13} user {username:<18} password {password}")
    print(f"  Central (head office):    http://127.0.0.1:{args.central_port}/")
    for username, role, password in central_logins:
        print(f"      {role:<13} user {username:<18} password {password}")
    print("\n  Passwords change at every start. Press Ctrl+C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        for server in servers:
            server.close()
        print("\nStopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
