"""What each process role runs. Several processes share one PostgreSQL; leases split the work between them.

| role    | polls feeds | delivers alerts | listens for /news (gateway, HTTP, Socket Mode, stdin) |
|---------|-------------|-----------------|--------------------------------------------------------|
| all     | yes         | yes             | yes                                                    |
| poller  | yes         | no              | no                                                     |
| worker  | yes         | yes             | no                                                     |
| gateway | no          | yes             | yes                                                    |

Only one process should hold a Slack Socket Mode or Discord gateway connection: run a single `gateway` (or
`all`) and as many `worker`s as the feed count needs. Every role may post.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ALL = "all"
    POLLER = "poller"
    WORKER = "worker"
    GATEWAY = "gateway"

    @property
    def polls(self) -> bool:
        return self in (Role.ALL, Role.POLLER, Role.WORKER)

    @property
    def delivers(self) -> bool:
        return self in (Role.ALL, Role.WORKER, Role.GATEWAY)

    @property
    def listens(self) -> bool:
        return self in (Role.ALL, Role.GATEWAY)
