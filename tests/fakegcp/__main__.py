"""Serve a world folder on 127.0.0.1 until Ctrl-C, to try driftcheck offline:

    python -m tests.fakegcp fixtures/audit-live/world [--port PORT]

prints `DRIFTCHECK_ENDPOINT=127.0.0.1:PORT` (a line to `export`) once it is listening.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .server import FakeGcpServer
from .world import World, WorldFileError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fakegcp", description=__doc__.splitlines()[0])
    parser.add_argument("world", help="a folder of exported resources, e.g. fixtures/audit-live/world")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free one)")
    args = parser.parse_args(argv)
    try:
        world = World.from_folder(args.world)
    except (WorldFileError, OSError) as exc:
        print(f"fakegcp: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a shell's `&` starts it with Ctrl-C ignored
        signal.signal(signum, lambda *_: stop.set())
    with FakeGcpServer(world, port=args.port) as fake:
        print(f"DRIFTCHECK_ENDPOINT={fake.address}", flush=True)
        print(f"serving {len(world.services)} services until Ctrl-C", file=sys.stderr, flush=True)
        while not stop.wait(0.2):  # a timed wait lets the signal handlers run
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
