"""URLs in messages: what a merchant reads in an error or a log never shows the
credentials a URL carries (user, password, secret query values)."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlencode, urlsplit, urlunsplit

SECRET_PARAMS = frozenset(
    {"consumer_key", "consumer_secret", "access_token", "token", "key", "secret", "password"}
)


def safe_url(url: str) -> str:
    """``url`` without user:password and with secret query values masked."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = urlencode(
        [
            (k, "***" if k.lower() in SECRET_PARAMS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]:,*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact(text: str, url: str) -> str:
    """``text`` (a library's error, which may repeat the URL it was given) with the
    secrets of ``url`` (user, password, secret query values) masked, also URL-encoded."""
    parts = urlsplit(url)
    secrets = {unquote(parts.username or ""), unquote(parts.password or "")}
    secrets.update(
        value
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() in SECRET_PARAMS
    )
    forms = {form for secret in secrets if secret for form in _encoded_forms(secret)}
    for form in sorted(forms, key=len, reverse=True):  # a longer form first: it may hold one
        text = text.replace(form, "***")
    return text


def _encoded_forms(secret: str) -> tuple[str, ...]:
    return (secret, quote(secret, safe=""), quote_plus(secret), quote(secret))
