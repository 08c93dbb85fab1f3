"""The doctor's checklist: keyring, key, clock skew, and a signed call Amazon must accept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..amazonpay.errors import ApiError, InvalidResponse, TransportError
from .connection import keyring_label
from .views import Check

if TYPE_CHECKING:
    from ..amazonpay.client import AmazonPayClient


async def run_checks(client: AmazonPayClient, key_source: str) -> list[Check]:
    """The connection checks: keyring, key, clock skew, and a signed call Amazon accepts."""
    from .. import secrets

    checks: list[Check] = []
    status = secrets.keyring_status()
    uses_keyring = "keyring" in key_source
    detail = keyring_label(status)
    if status.usable:
        checks.append(Check("Keyring", True, detail))
    elif not uses_keyring:
        # the check passes because no keyring is needed: its line says that, not "no keyring"
        checks.append(Check("Key storage", True, f"the key comes from {key_source}; no system "
                            f"keyring is needed (there is none here: {status.reason})"))
    else:
        checks.append(Check("Keyring", False, f"{detail}: {status.reason}"))
    from ..amazonpay import signing

    checks.append(
        Check(
            "Private key",
            True,
            f"RSA {client.config.private_key.key_size} bits, "
            f"{signing.fingerprint(client.config.private_key)}, "
            f"public key ID {client.config.public_key_id}, from {key_source}",
        )
    )
    probe = "00000000-0000-4000-8000-000000000000"
    signed_ok: Check
    try:
        await client.get_checkout_session(probe)
        signed_ok = Check("Signed request", False, "An unknown session was found?")
    except ApiError as error:
        accepted = error.status == 404 and error.reason_code == "ResourceNotFound"
        signed_ok = Check(
            "Signed request",
            accepted,
            "Amazon Pay accepted the signature (404 ResourceNotFound for a test ID)"
            if accepted
            else f"{error.status} {error.reason_code}: {error.message}",
        )
    except (TransportError, InvalidResponse) as error:
        signed_ok = Check("Signed request", False, f"No usable answer: {error}")
    server_date = client.last_server_date
    if server_date is None:
        checks.append(Check("Clock", True, "The service sent no Date header to compare with."))
    else:
        skew = (datetime.now(UTC) - server_date).total_seconds()
        checks.append(
            Check(
                "Clock",
                abs(skew) < 300,
                f"{skew:+.0f} s against Amazon Pay's clock"
                + ("" if abs(skew) < 300 else ": set this computer's clock right"),
            )
        )
    checks.append(signed_ok)
    return checks
