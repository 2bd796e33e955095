"""Errors and counted problems: every message names the file, the record and what to do."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("computewatch")


class ComputewatchError(Exception):
    """Base of every error computewatch reports to a user without a traceback."""


class UsageError(ComputewatchError):
    """The command was called wrongly (exit status 2)."""


class BundleError(ComputewatchError):
    """A region bundle cannot be used (exit status 1)."""


class UnsafePathError(ComputewatchError):
    """A path the tool was about to write or read lies outside the folder it belongs to."""


class ModelError(ComputewatchError):
    """The model file is missing, altered, or holds types we do not trust."""


class SourceError(ComputewatchError):
    """A source refused or failed a request; status is the HTTP status, if there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PreflightError(ComputewatchError):
    """Something a run needs is not there or not usable; the message says what to do."""


class AlertStoreError(ComputewatchError):
    """The store cannot be opened or an alert is not in it."""


class DecisionConflict(AlertStoreError):
    """Someone else decided on the alert after the decision the person last saw."""

    def __init__(self, latest: dict) -> None:
        self.latest = latest
        super().__init__(f"{latest['decided_by']} set {latest['facility_id']!r} to "
                         f"{latest['status']} at {latest['decided_at']} meanwhile")


class ServerError(ComputewatchError):
    """The Prefect server could not be started or reached."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, what it is, what to do."""

    severity: str  # "error" (the bundle is unusable) or "warning" (record skipped or repaired)
    file: str
    record: str
    message: str
    hint: str = ""
    kind: str = "other"

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.record}]" if self.record else "")
        text = f"{self.severity.upper()}: {where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


@dataclass
class ProblemLog:
    """Collects problems while a bundle is read; errors make the bundle unusable."""

    root: Path | None = None
    problems: list[Problem] = field(default_factory=list)

    def _rel(self, path: Path | str) -> str:
        path = Path(path)
        if self.root is not None:
            try:
                return str(path.relative_to(self.root))
            except ValueError:
                return str(path)
        return str(path)

    def warn(self, path: Path | str, record: str, message: str, hint: str = "",
             kind: str = "other") -> None:
        """Record a skipped or repaired record; the run goes on."""
        problem = Problem("warning", self._rel(path), record, message, hint, kind)
        self.problems.append(problem)
        log.debug("%s", problem)

    def error(self, path: Path | str, record: str, message: str, hint: str = "",
              kind: str = "other") -> None:
        """Record a problem that makes the bundle unusable."""
        problem = Problem("error", self._rel(path), record, message, hint, kind)
        self.problems.append(problem)
        log.debug("%s", problem)

    @property
    def errors(self) -> list[Problem]:
        """The fatal problems."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The problems that were skipped or repaired."""
        return [p for p in self.problems if p.severity == "warning"]

    def counts(self) -> dict[str, int]:
        """Warnings counted by kind, for the run report."""
        return dict(Counter(p.kind for p in self.warnings))

    def raise_if_errors(self) -> None:
        """Stop with every fatal problem listed."""
        if self.errors:
            lines = "\n".join(f"  {p}" for p in self.errors)
            raise BundleError(f"the region bundle is unusable:\n{lines}")
