import logging
from logging.config import fileConfig

from flask import current_app
from sqlalchemy import event

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def render_item(type_, obj, autogen_context):
    """Write the project's UTC column type as a plain timezone-aware DateTime, so migrations import nothing
    from the application for their column types."""
    from registry.core.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives
    conf_args.setdefault("render_item", render_item)

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        extra = {}
        if sqlite:
            # SQLite rebuilds a table to alter it; with foreign keys on it re-checks every row against every
            # constraint while copying (minutes at a million people). Off for the migration, checked once
            # before it commits.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # else Alembic finds a transaction open, joins it, and never commits
            _sqlite_transactional_ddl(connection)
            extra["transactional_ddl"] = True
        try:
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                **conf_args,
                **extra
            )
            started_at = context.get_context().get_current_revision()
            try:
                # One transaction for every migration of the run: whatever stops it, nothing is kept.
                with context.begin_transaction():
                    context.run_migrations()
                    if sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise RuntimeError(f"the migration left rows that break foreign keys: {broken[:5]}")
            except Exception as exc:
                logger.error("The migration failed (%s). Everything it changed was rolled back: the database is "
                             "still at revision %s, as it was. Fix the cause and run it again.",
                             exc, started_at or "base (empty)")
                raise
        finally:
            if sqlite:
                _sqlite_implicit_transactions(connection)
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _begin_immediate(connection):
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_transactional_ddl(connection):
    """Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE, so each CREATE, DROP and
    ALTER would commit on its own and a failed upgrade would leave half a schema. For the migration the
    driver starts no transaction of its own and this connection begins each one explicitly (taking the
    write lock at once); SQLite's DDL is transactional once inside one."""
    driver = connection.connection.driver_connection
    connection.info["sqlite_isolation_level"] = driver.isolation_level
    driver.isolation_level = None
    event.listen(connection, "begin", _begin_immediate)


def _sqlite_implicit_transactions(connection):
    """Back to the driver's own transactions before the connection returns to the pool."""
    event.remove(connection, "begin", _begin_immediate)
    connection.rollback()
    connection.connection.driver_connection.isolation_level = connection.info.pop("sqlite_isolation_level")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
