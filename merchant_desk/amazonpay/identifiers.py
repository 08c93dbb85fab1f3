"""The shapes of the strings Amazon Pay accepts from us: key IDs, idempotency keys, object IDs.

Standard library only, so that the operator-input rules and the store can check a value
without loading the client.
"""

from __future__ import annotations

import re

#: A public key ID as Seller Central shows it. It is written into the ``authorization``
#: header, where a space or a comma would break the header.
PUBLIC_KEY_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,100}", re.ASCII)

#: Amazon's rule for ``x-amz-pay-idempotency-key``: at most 32 of these characters.
IDEMPOTENCY_KEY_MAX_LENGTH = 32
IDEMPOTENCY_KEY_RE = re.compile(r"[A-Za-z0-9_-]{1,32}", re.ASCII)

#: An object ID as it may appear in a request path: one path segment, never ``/`` or ``..``.
OBJECT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,99}", re.ASCII)

#: ``x-amz-pay-simulation-code`` values (sandbox only).
SIMULATION_CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
