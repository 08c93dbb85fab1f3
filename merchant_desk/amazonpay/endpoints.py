"""Regions, environments and URLs: the SDKs' rules for where a request goes.

Kept apart from the client (httpx, cryptography) so that the window can name its environment
(the DEMO / SANDBOX / LIVE badge) before its first paint without loading the wire.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .errors import ConfigurationError

#: region setting -> canonical region (the ``x-amz-pay-region`` value)
REGION_ALIASES: dict[str, str] = {
    "na": "na",
    "us": "na",
    "eu": "eu",
    "de": "eu",
    "uk": "eu",
    "jp": "jp",
}
#: canonical region -> Amazon Pay API host
REGION_HOSTS: dict[str, str] = {
    "na": "pay-api.amazon.com",
    "eu": "pay-api.amazon.eu",
    "jp": "pay-api.amazon.jp",
}
ENVIRONMENTS = ("sandbox", "live")
API_VERSION = "v2"


def normalize_region(region: str) -> str:
    """``na``/``us`` -> ``na``, ``eu``/``de``/``uk`` -> ``eu``, ``jp``; case-insensitive."""
    canonical = REGION_ALIASES.get((region or "").strip().lower())
    if canonical is None:
        raise ConfigurationError(
            f"Unknown region {region!r}: use na (or us), eu (or de, uk) or jp."
        )
    return canonical


def normalize_environment(environment: str) -> str:
    """``sandbox`` or ``live``, case-insensitive."""
    value = (environment or "").strip().lower()
    if value not in ENVIRONMENTS:
        raise ConfigurationError(f"Unknown environment {environment!r}: use sandbox or live.")
    return value


def key_selects_environment(public_key_id: str) -> bool:
    """True for environment-specific key IDs (``LIVE-...``, ``SANDBOX-...``; any case).

    Such keys are only valid in their own environment, so Amazon's URL drops the
    ``/sandbox`` or ``/live`` segment. The prefix test is the SDKs' own (PHP, Node, Java, .NET).
    """
    upper = public_key_id.strip().upper()
    return upper.startswith("LIVE") or upper.startswith("SANDBOX")


def environment_of_key(public_key_id: str, environment: str) -> str:
    """The environment requests really go to: the key's own when it names one."""
    upper = public_key_id.strip().upper()
    if upper.startswith("SANDBOX"):
        return "sandbox"
    if upper.startswith("LIVE"):
        return "live"
    return normalize_environment(environment)


def api_base_path(environment: str, public_key_id: str) -> str:
    """``/sandbox/v2``, ``/live/v2``, or ``/v2`` for environment-specific key IDs."""
    if key_selects_environment(public_key_id):
        return f"/{API_VERSION}"
    return f"/{normalize_environment(environment)}/{API_VERSION}"


def service_base_url(
    region: str, environment: str, public_key_id: str, endpoint: str | None = None
) -> str:
    """The SDKs' base URL: ``https://{host}/{sandbox|live}/`` (or ``https://{host}/``).

    ``endpoint`` replaces ``https://{host}`` (the emulator); it is checked like the config's.
    """
    origin = check_endpoint(endpoint) if endpoint else f"https://{REGION_HOSTS[normalize_region(region)]}"
    if key_selects_environment(public_key_id):
        return f"{origin}/"
    return f"{origin}/{normalize_environment(environment)}/"


def service_url(
    region: str,
    environment: str,
    public_key_id: str,
    resource: str,
    endpoint: str | None = None,
) -> str:
    """Full URL of ``resource`` (e.g. ``checkoutSessions/ID``), unencoded."""
    base = service_base_url(region, environment, public_key_id, endpoint)
    return f"{base}{API_VERSION}/{resource.lstrip('/')}"


def is_loopback_host(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ``::1``: the only hosts plain http may reach."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(endpoint: str) -> str:
    """Validate an endpoint override; return it without a trailing ``/``.

    Plain ``http`` would send signed payment requests (and let anyone on the path replay
    them) in clear text, so it is refused unless the host is this machine.
    """
    try:
        parts = urlsplit(endpoint.strip())
        host = parts.hostname
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise ConfigurationError(f"Endpoint {endpoint!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(
            f"Endpoint {endpoint!r} must be an http(s) URL such as https://pay-api.example "
            "or http://127.0.0.1:8080."
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(
            f"Endpoint {endpoint!r} must not carry a query, fragment or user name."
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise ConfigurationError(
            f"Endpoint {endpoint!r} uses plain http to a host that is not this machine; "
            "use https (plain http is accepted only for 127.0.0.1, ::1 or localhost)."
        )
    return endpoint.strip().rstrip("/")
