"""Which source failures are worth retrying: timeouts, dropped connections, 5xx and 429.

Only source I/O tasks retry. A 4xx (bad request, missing key, object not found) or a corrupt
local file fails the same way every time, so it is reported at once instead.
"""

from __future__ import annotations

import os
import re

RETRIES = 3
# "HTTP response code: 503" (GDAL's curl reader) or "503 Server Error" (requests-style).
_HTTP_STATUS = re.compile(r"(?:HTTP response code:?\s*|\b)([45]\d\d)\b")
_TRANSIENT_WORDS = ("timed out", "timeout", "connection reset", "connection refused",
                    "connection aborted", "temporarily unavailable", "remote end closed")


def retry_delays() -> list[float]:
    """Backoff before each retry: 5, 20 and 80 s (COMPUTEWATCH_RETRY_BASE_SECONDS scales it)."""
    base = float(os.environ.get("COMPUTEWATCH_RETRY_BASE_SECONDS", "5"))
    return [base * 4 ** i for i in range(RETRIES)]


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an error carries, as an attribute or in its message."""
    status = getattr(exc, "status", None) or getattr(getattr(exc, "response", None),
                                                     "status_code", None)
    if isinstance(status, int):
        return status
    match = _HTTP_STATUS.search(str(exc))
    return int(match.group(1)) if match else None


def is_transient(exc: BaseException | None) -> bool:
    """True when trying again later may succeed."""
    if exc is None:
        return False
    status = http_status(exc)
    if status is not None:
        return status == 429 or status >= 500
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    text = str(exc).lower()
    return any(word in text for word in _TRANSIENT_WORDS)


def failure(state: object) -> BaseException | None:
    """The exception a failed Prefect state carries, if any."""
    exc = state.result(raise_on_failure=False)  # type: ignore[attr-defined]
    return exc if isinstance(exc, BaseException) else None


def retry_transient(task: object, task_run: object, state: object) -> bool:
    """Prefect retry_condition_fn: retry a failed source task only for a transient error."""
    return is_transient(failure(state))


def settle(future: object) -> tuple[object, BaseException | None]:
    """Wait for a submitted task: (its result, None), or (None, what it failed with)."""
    future.wait()  # type: ignore[attr-defined]
    state = future.state  # type: ignore[attr-defined]
    if state.is_completed():
        return future.result(), None  # type: ignore[attr-defined]
    return None, failure(state) or RuntimeError(state.message)
