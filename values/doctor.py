"""One line of `bot.py doctor`: what was checked, how it went, and what to do about it.

The platform adapters (`handlers/slack/doctor.py`, `handlers/discord/doctor.py`) and the command
(`cli/doctor_cmd.py`) all produce these, so the command can print and judge every line the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CheckStatus(StrEnum):
    OK = "ok"
    WARNING = "warning"  # the bot runs, but something an operator should look at (one feed down)
    ERROR = "error"  # the bot cannot do its job until this is fixed: `doctor` exits 1
    SKIPPED = "skipped"  # not configured, on purpose (console mode, no alert channel)


@dataclass(frozen=True, slots=True)
class DoctorCheck:
    name: str  # "database", "slack token", "feed El Pitazo"...
    status: CheckStatus
    detail: str  # never a secret: tokens are named by their variable, not shown
    fix: str | None = None  # what the operator should do; set on every warning and error

    @property
    def failed(self) -> bool:
        return self.status is CheckStatus.ERROR
