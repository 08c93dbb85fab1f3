"""The doctor's checklist: keyring, key, clock skew, and a signed call Amazon must accept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..amazonpay.errors import ApiError, InvalidResponse, TransportError
from ..i18n import N_, _
from .connection import keyring_label
from .views import Check

if TYPE_CHECKING:
    from ..amazonpay.client import AmazonPayClient


async def run_checks(client: AmazonPayClient, key_source: str) -> list[Check]:
    """The connection checks: keyring, key, clock skew, and a signed call Amazon accepts."""
    from .. import secrets

    checks: list[Check] = []
    status = secrets.keyring_status()
    uses_keyring = secrets.names_a_keyring(key_source)
    detail = keyring_label(status)
    if status.usable:
        checks.append(Check(N_("Keyring"), True, detail))
    elif not uses_keyring:
        # the check passes because no keyring is needed: its line says that, not "no keyring"
        checks.append(Check(N_("Key storage"), True, _(
            "the key comes from {source}; no system keyring is needed (there is none here: "
            "{reason})").format(source=key_source, reason=status.reason)))
    else:
        checks.append(Check(N_("Keyring"), False, f"{detail}: {status.reason}"))
    from ..amazonpay import signing

    checks.append(
        Check(
            N_("Private key"),
            True,
            _("RSA {bits} bits, {fingerprint}, public key ID {key_id}, from {source}").format(
                bits=client.config.private_key.key_size,
                fingerprint=signing.fingerprint(client.config.private_key),
                key_id=client.config.public_key_id, source=key_source),
        )
    )
    probe = "00000000-0000-4000-8000-000000000000"
    signed_ok: Check
    try:
        await client.get_checkout_session(probe)
        signed_ok = Check(N_("Signed request"), False, _("An unknown session was found?"))
    except ApiError as error:
        accepted = error.status == 404 and error.reason_code == "ResourceNotFound"
        signed_ok = Check(
            N_("Signed request"),
            accepted,
            _("Amazon Pay accepted the signature (404 ResourceNotFound for a test ID)")
            if accepted
            else f"{error.status} {error.reason_code}: {error.message}",
        )
    except (TransportError, InvalidResponse) as error:
        signed_ok = Check(N_("Signed request"), False, _("No usable answer: {error}").format(error=error))
    server_date = client.last_server_date
    if server_date is None:
        checks.append(Check(N_("Clock"), True,
                            _("The service sent no Date header to compare with.")))
    else:
        skew = (datetime.now(UTC) - server_date).total_seconds()
        checks.append(
            Check(
                N_("Clock"),
                abs(skew) < 300,
                _("{skew} s against Amazon Pay's clock").format(skew=f"{skew:+.0f}")
                if abs(skew) < 300 else
                _("{skew} s against Amazon Pay's clock: set this computer's clock right").format(
                    skew=f"{skew:+.0f}"),
            )
        )
    checks.append(signed_ok)
    return checks
