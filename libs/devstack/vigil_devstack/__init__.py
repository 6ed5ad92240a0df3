"""Embedded NATS (JetStream), PostgreSQL and S3 servers for Vigil's local stack and tests."""

from vigil_devstack.fs import make_temp_home
from vigil_devstack.nats_server import start_nats
from vigil_devstack.postgres_server import start_postgres
from vigil_devstack.process import RunningServer, StartupError
from vigil_devstack.s3_server import s3_client, start_s3
from vigil_devstack.stack import SERVER_NAMES, Stack, start_stack

__all__ = [
    "SERVER_NAMES",
    "RunningServer",
    "Stack",
    "StartupError",
    "make_temp_home",
    "s3_client",
    "start_nats",
    "start_postgres",
    "start_s3",
    "start_stack",
]
