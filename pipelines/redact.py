"""One redaction layer: API keys, signing tokens and URL passwords never reach a log or error.

`redact` rewrites a text; `install` makes every log record of the process (computewatch's,
Prefect's, httpx's, at every verbosity) pass through it, tracebacks included; `split_secret`
and `with_secret` keep a database password out of the URL that travels to Prefect.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from urllib.parse import quote, unquote

# EIA's api_key, bearer-ish tokens, and the query parameters of an Azure SAS token
# (Planetary Computer signing).
_QUERY_SECRET = re.compile(r"(?<![A-Za-z_])(api_key|apikey|access_token|token|password|"
                           r"passwd|secret|sig|se|sv|sp|sr|st|skoid|sktid|skt|ske|sks|skv)"
                           r"=([^&\s\"']+)", re.I)
# scheme://user:password@host: the password part of a URL's authority.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s\"']*):([^@/\s\"']+)@")
MASK = "***"
SECRET_ENV_PREFIX = "COMPUTEWATCH_SECRET_"


def redact(text: str) -> str:
    """The text with API keys, signing tokens and passwords in URLs replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", text)


def split_secret(url: str) -> tuple[str, str | None]:
    """(the URL without its password, the password or None)."""
    match = _URL_PASSWORD.search(url)
    if match is None:
        return url, None
    public = url[:match.start()] + match.group(1) + "@" + url[match.end():]
    return public, unquote(match.group(2))


def _secret_env(public_url: str) -> str:
    return SECRET_ENV_PREFIX + hashlib.sha256(public_url.encode()).hexdigest()[:16].upper()


def stash_secret(url: str) -> str:
    """Keep a URL's password in this process's environment; return the password-free URL.

    Prefect stores flow parameters in its database and shows them in its UI, so only the
    public URL travels there; the flow run (in this process or a child of it) gets the
    password back with `with_secret`.
    """
    public, password = split_secret(url)
    if password is not None:
        os.environ[_secret_env(public)] = password
    return public


def with_secret(public_url: str) -> str:
    """The URL with the password `stash_secret` kept for it (unchanged if there is none).

    Without a stashed password, drivers still find one of their own (libpq: PGPASSWORD or
    ~/.pgpass).
    """
    password = os.environ.get(_secret_env(public_url))
    if password is None or "@" not in public_url:
        return public_url
    scheme, rest = public_url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{quote(password, safe='')}@{host}"


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output, tracebacks included, is redacted."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record with every secret masked."""
        return redact(super().format(record))


def _redacting_factory(base: logging.LogRecordFactory) -> logging.LogRecordFactory:
    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the caller's; leave it be
            return record
        clean = redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, ()
        return record

    factory.computewatch_redacting = True  # type: ignore[attr-defined]
    return factory


def install() -> None:
    """Redact every log record created in this process from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "computewatch_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(current))
