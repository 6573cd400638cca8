"""Loopback ports for the servers the local stack, its tests and the benches start."""

import socket


def free_port() -> int:
    """A port nothing listens on now; the caller binds it soon after, so a clash is unlikely, not impossible."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
