"""Start, check and stop the real local services (Kafka, Mosquitto) by PID on free ports.

One module serves the test fixtures, ``riskstream services`` and the demo. ClickHouse needs no
process: the embedded engine (chdb) runs inside the worker, and an ``http(s)://`` DSN points
at any ClickHouse server instead.
"""

from riskstream.services.process import ServiceError
from riskstream.services.stack import LocalServices, ServiceInfo

__all__ = ["LocalServices", "ServiceError", "ServiceInfo"]
