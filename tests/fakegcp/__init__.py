"""A fake Google Cloud API server for tests: the real client libraries talk real gRPC to it.

`World` holds the resources (official client types); `FakeGcpServer(world)` serves them on 127.0.0.1 with
pagination, latency and fault injection, and records every call. See server.py for the fault syntax.
"""

from .server import FakeGcpServer, Fault
from .world import World, WorldFileError, synthesized_revisions

__all__ = ["FakeGcpServer", "Fault", "World", "WorldFileError", "synthesized_revisions"]
