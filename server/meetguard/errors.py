"""Errors with stable codes, raised by the core and mapped to answers in one place."""

from __future__ import annotations

from dataclasses import dataclass


class MeetGuardError(Exception):
    """Base of the project's errors; `code` is stable and becomes a problem `type`."""

    code = "error"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a signature file, located so that IT can fix it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class SignatureError(MeetGuardError):
    """The signatures cannot be loaded; every problem is listed with its file and line.

    A failed reload keeps the previous snapshot in force.
    """

    code = "signatures-invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5])
                         + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))
