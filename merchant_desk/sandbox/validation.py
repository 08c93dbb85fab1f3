"""Request body rules the emulator enforces before any state changes.

Amazon answers a malformed body with 400 and a precise reason code; so does the emulator:
``InvalidRequestFormat`` (not a JSON object), ``UnrecognizedField`` (a key Amazon does not know),
``MissingParameterValue`` (a required key absent or null), ``InvalidParameterValue`` (a value of
the wrong type or format).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..paths import resource
from .currencies import DECIMALS, MAX_CHARGE, convert, format_amount
from .errors import Refusal, invalid

# '.' is the only separator; no sign, exponent, grouping or leading zeros.
_AMOUNT_RE = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")
_IDEMPOTENCY_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_TRACKING_RE = re.compile(r"^[A-Za-z0-9 -]{1,60}$")
SOFT_DESCRIPTOR_MAX = 16
REASON_TEXT_MAX = 255


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency; ``amount`` is always a Decimal, never a float."""

    amount: Decimal
    currency_code: str

    def to_json(self) -> dict[str, str]:
        """``{"amount": "14.00", "currencyCode": "USD"}`` with the currency's decimals."""
        return {"amount": format_amount(self.amount, self.currency_code), "currencyCode": self.currency_code}


def parse_json_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; an empty body counts as ``{}``."""
    if not raw.strip():
        return {}
    try:
        # parse_float keeps any number exact so a wrong type is reported, never rounded.
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Refusal(400, "InvalidRequestFormat", f"The request body is not valid JSON: {exc}.") from None
    except (ValueError, RecursionError):  # an integer too long to read, nesting too deep
        raise Refusal(400, "InvalidRequestFormat", "The request body is not JSON Amazon reads.") from None
    if not isinstance(data, dict):
        raise Refusal(400, "InvalidRequestFormat", "The request body must be a JSON object.")
    return data


def check_fields(
    body: dict[str, Any], *, allowed: Iterable[str], required: Iterable[str] = (), where: str = ""
) -> None:
    """Refuse unknown keys (``UnrecognizedField``) and absent or null required ones."""
    allowed = set(allowed)
    prefix = f"{where}." if where else ""
    for key in body:
        if key not in allowed:
            raise Refusal(400, "UnrecognizedField", f"Unrecognized field {prefix}{key!r} in the request body.")
    for key in required:
        if body.get(key) is None:
            raise Refusal(400, "MissingParameterValue", f"The required parameter {prefix}{key} is missing.")


def parse_money(value: Any, field: str, *, positive: bool = True) -> Money:
    """A ``{amount, currencyCode}`` object, checked per currency (string amount, decimals, max)."""
    if not isinstance(value, dict):
        raise invalid(f"{field} must be an object {{amount, currencyCode}}.")
    check_fields(value, allowed=("amount", "currencyCode"), required=("amount", "currencyCode"), where=field)
    amount, currency = value["amount"], value["currencyCode"]
    if not isinstance(currency, str) or currency not in DECIMALS:
        raise invalid(
            f"{field}.currencyCode {currency!r} is not supported; use one of {', '.join(DECIMALS)}."
        )
    # The SDKs also send JSON numbers, which Amazon accepts; the body's numbers are parsed as
    # Decimal (parse_json_body), so they are read exactly, never through a float.
    if isinstance(amount, int | Decimal) and not isinstance(amount, bool):
        # A huge exponent (1e999999999) would be written out digit by digit: refuse it first.
        if isinstance(amount, Decimal) and (not amount.is_finite() or not -20 < amount.adjusted() < 20):
            raise invalid(f"{field}.amount must be a finite number below 10^20.")
        if isinstance(amount, int) and abs(amount) >= 10**20:
            raise invalid(f"{field}.amount must be a finite number below 10^20.")
        amount = str(amount) if isinstance(amount, int) else f"{amount:f}"
    if not isinstance(amount, str):
        raise invalid(f"{field}.amount must be a string such as \"14.00\", not {type(amount).__name__}.")
    match = _AMOUNT_RE.match(amount)
    if not match:
        raise invalid(
            f"{field}.amount {amount!r} is not a valid amount: digits with '.' as the only "
            "separator, no sign or grouping."
        )
    places = DECIMALS[currency]
    fraction = match.group(2)
    if fraction is not None and (places == 0 or len(fraction) - 1 > places):
        raise invalid(
            f"{field}.amount {amount!r} has too many decimals: {currency} allows {places}."
        )
    parsed = Decimal(amount)
    if positive and parsed <= 0:
        raise invalid(f"{field}.amount must be greater than zero.")
    # Amazon states its maximum in USD, EUR, GBP and JPY; any other currency is held to the
    # euro maximum at the sandbox's rate (chosen).
    limit_currency = currency if currency in MAX_CHARGE else "EUR"
    in_limit_currency = parsed if currency in MAX_CHARGE else convert(parsed, currency, "EUR")
    if in_limit_currency > MAX_CHARGE[limit_currency]:
        raise invalid(
            f"{field}.amount {amount} {currency} is over the maximum of "
            f"{format_amount(MAX_CHARGE[limit_currency], limit_currency)} {limit_currency}."
        )
    return Money(parsed, currency)


def parse_bool(value: Any, field: str, default: bool = False) -> bool:
    """A JSON boolean (``null`` or absent means ``default``)."""
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid(f"{field} must be true or false.")
    return value


def parse_text(value: Any, field: str, *, max_length: int = REASON_TEXT_MAX) -> str:
    """A JSON string of at most ``max_length`` characters."""
    if not isinstance(value, str):
        raise invalid(f"{field} must be a string.")
    if len(value) > max_length:
        raise invalid(f"{field} is {len(value)} characters long; at most {max_length} are allowed.")
    return value


#: merchantMetadata's fields and their longest values.
MERCHANT_METADATA_FIELDS = {
    "merchantReferenceId": 256,
    "merchantStoreName": 50,
    "noteToBuyer": 255,
    "customInformation": 4096,
}


def parse_merchant_metadata(value: Any) -> dict[str, str | None]:
    """A ``merchantMetadata`` object: the fields given, each a string within its length (or null)."""
    if not isinstance(value, dict):
        raise invalid("merchantMetadata must be an object.")
    check_fields(value, allowed=MERCHANT_METADATA_FIELDS, where="merchantMetadata")
    out: dict[str, str | None] = {}
    for key, text in value.items():
        out[key] = None if text is None else parse_text(text, f"merchantMetadata.{key}",
                                                         max_length=MERCHANT_METADATA_FIELDS[key])
    return out


def parse_soft_descriptor(value: Any) -> str | None:
    """Statement text after ``AMZ* ``: <= 16 printable ASCII characters, no edge spaces (chosen)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid("softDescriptor must be a string.")
    if not value:
        raise invalid("softDescriptor must not be empty; leave it out instead.")
    if len(value) > SOFT_DESCRIPTOR_MAX:
        raise invalid(
            f"softDescriptor is {len(value)} characters long; at most {SOFT_DESCRIPTOR_MAX} are allowed."
        )
    if any(not (0x20 <= ord(ch) <= 0x7E) for ch in value):
        raise invalid("softDescriptor may contain printable ASCII characters only.")
    if value != value.strip(" "):
        raise invalid("softDescriptor must not start or end with a space.")
    return value


def check_idempotency_key(value: str) -> str:
    """At most 32 characters of ``A-Za-z0-9-_`` (REFERENCE section 3)."""
    if not _IDEMPOTENCY_KEY_RE.match(value):
        raise Refusal(
            400,
            "InvalidHeaderValue",
            "x-amz-pay-idempotency-key must be 1 to 32 characters of A-Z, a-z, 0-9, '-' and '_'.",
        )
    return value


def normalize_tracking_number(value: Any) -> str:
    """Trimmed tracking number: 1-60 letters, digits, spaces and '-' (chosen)."""
    if not isinstance(value, str):
        raise invalid("deliveryDetails.trackingNumber must be a string.")
    trimmed = value.strip()
    if not _TRACKING_RE.match(trimmed):
        raise invalid(
            f"trackingNumber {value!r} is not valid: 1 to 60 letters, digits, spaces or '-'."
        )
    return trimmed


_CARRIERS: dict[str, str] | None = None


def carrier_codes() -> dict[str, str]:
    """The carrier codes the Delivery Tracker API accepts (``resources/carrier_codes.csv``)."""
    global _CARRIERS
    if _CARRIERS is None:
        import csv

        with resource("carrier_codes.csv").open(encoding="utf-8", newline="") as handle:
            _CARRIERS = {row["code"]: row["name"] for row in csv.DictReader(handle)}
    return _CARRIERS
