"""`python -m bench.sync_profile [--registrations N] [--batch 1000] [--no-profile]`: where a push spends time.

Runs in one process, without HTTP: an office (SQLite, `flask demo load` rows) builds its push bodies as
`office.push_pending` does (here one after another, not while central works), and central (a throwaway
PostgreSQL) answers them through its Flask test client, signed like a real office's request. The office's side and central's side are profiled
separately with cProfile; the top functions by cumulative and by own time are printed, and the
profiles saved in bench/.work/sync/profile-*.prof (open them with `python -m pstats`).
"""
import argparse
import cProfile
import pstats
import time

from bench.sync_nodes import LOGS, RUNS, WORK, Postgres, central_env, flask, office_env


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.sync_profile", description=__doc__.split("\n\n")[1])
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="time the two sides without cProfile's overhead, print no profile")
    args = parser.parse_args(argv)
    for folder in (LOGS, RUNS):
        folder.mkdir(parents=True, exist_ok=True)
    log = LOGS / "profile.log"
    log.write_text("")
    office_db = RUNS / "profile-bbr.db"
    for suffix in ("", "-wal", "-shm"):
        office_db.with_name(office_db.name + suffix).unlink(missing_ok=True)
    pg = Postgres()
    try:
        pg.start()
        url = pg.create_database("central")
        cenv = central_env(url)
        flask(cenv, "db", "upgrade", log=log)
        flask(cenv, "demo", "setup", log=log)
        secret = flask(cenv, "offices", "issue-secret", "BBR", log=log).strip().splitlines()[-1]
        oenv = office_env("BBR", office_db)
        flask(oenv, "db", "upgrade", log=log)
        flask(oenv, "demo", "load", "--registrations", str(args.registrations), log=log)
        profile(url, office_db, secret, args)
    finally:
        pg.stop()


def profile(url, office_db, secret, args):
    from registry import create_app
    from registry.sync.office import _Waiting
    from registry.sync.signing import sign_headers

    common = {"REGISTRY_ENV": "demo", "SECRET_KEY": "profile", "SYNC_INTERVAL_SECONDS": 0}
    office = create_app({**common, "REGISTRY_ROLE": "office", "OFFICE_CODE": "BBR",
                         "DATABASE_URL": f"sqlite:///{office_db}"})
    central = create_app({**common, "REGISTRY_ROLE": "central", "OFFICE_CODE": "HQ", "DATABASE_URL": url})
    client = central.test_client()
    office_profile, central_profile = cProfile.Profile(), cProfile.Profile()
    office_seconds = central_seconds = 0.0
    sent, after = 0, 0
    while True:
        started = time.perf_counter()
        if args.profile:
            office_profile.enable()
        with office.app_context():
            batch = _Waiting("BBR", args.batch, after=after)
            body = batch.body
        office_profile.disable()
        office_seconds += time.perf_counter() - started
        if not batch.seqs:
            break
        after = batch.seqs[-1]
        headers = sign_headers("BBR", secret, "POST", "/api/v1/sync/push", body)
        headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        if args.profile:
            central_profile.enable()
        response = client.post("/api/v1/sync/push", data=body, headers=headers)
        central_profile.disable()
        central_seconds += time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"central refused: {response.status_code} {response.get_data(as_text=True)[:500]}")
        sent += len(batch.seqs)
    print(f"{sent:,} changes; office building batches {office_seconds:.1f} s ({office_seconds / sent * 1000:.3f} ms "
          f"a change), central applying them {central_seconds:.1f} s ({central_seconds / sent * 1000:.3f} ms a change)")
    if not args.profile:
        return
    for name, prof in (("central", central_profile), ("office", office_profile)):
        path = WORK / f"profile-{name}.prof"
        prof.dump_stats(path)
        print(f"\n===== {name}: by cumulative time ({path}) =====")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
        print(f"\n===== {name}: by own time =====")
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
