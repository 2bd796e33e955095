"""One polite HTTP client for the connectors: a pause between calls, clear errors, no keys.

Retrying is left to the Prefect source tasks (pipelines/orchestration/retry.py decides what
is transient).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from pipelines.errors import SourceError
from pipelines.redact import redact
from pipelines.resources import package_version

USER_AGENT = (f"computewatch/{package_version()} (+https://github.com/computewatch; "
              "compute-treaty verification)")


class PoliteClient:
    """httpx with a minimum interval between calls to one host and errors that say why."""

    def __init__(self, name: str, interval_s: float = 1.0, timeout_s: float = 120.0) -> None:
        self.name, self.interval_s = name, interval_s
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=True,
                                    headers={"User-Agent": USER_AGENT})
        self._last = 0.0
        self._lock = threading.Lock()

    def _wait_turn(self) -> None:
        with self._lock:
            pause = self._last + self.interval_s - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._last = time.monotonic()

    def request(self, method: str, url: str, hint: str = "", **kwargs: Any) -> httpx.Response:
        """One call; a SourceError (with the status) for a refusal, a timeout or a 5xx."""
        self._wait_turn()
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise SourceError(f"{self.name}: {redact(url)} timed out ({exc})") from None
        except httpx.TransportError as exc:
            raise SourceError(f"{self.name}: {redact(url)}: connection failed ({exc}); "
                              "check the URL and the network") from None
        if response.status_code >= 400:
            body = redact(response.text[:300].replace("\n", " "))
            raise SourceError(f"{self.name}: HTTP {response.status_code} from "
                              f"{redact(str(response.url))}: {body}"
                              + (f" ({hint})" if hint and response.status_code < 500 else ""),
                              status=response.status_code)
        return response

    def get_json(self, url: str, hint: str = "", **kwargs: Any) -> Any:
        """GET and decode JSON, with an error naming the source if it is not JSON."""
        response = self.request("GET", url, hint, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise SourceError(f"{self.name}: {redact(str(response.url))} did not return JSON "
                              f"(starts {response.text[:80]!r})") from None

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
