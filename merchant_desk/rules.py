"""Operator-input rules and the plain-language meaning of Amazon Pay states and reason codes.

Everything here is pure: no Qt, no network, no SQLite. The desk runs these checks *before*
anything is fetched or sent, so a refused input never reaches Amazon. Every refusal is a
:class:`RuleError` naming the field, the rule and an example of a good value, so the window and
the command line can show it as is.

Sources: REFERENCE sections 4 (states, reason codes, money, soft descriptor), 5 (Delivery
Tracker) and 6 (errors); rules marked "(chosen)" there are the project's own and the emulator
enforces the same ones.
"""

from __future__ import annotations

import csv
import difflib
import enum
import functools
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from . import paths
from .amazonpay.identifiers import PUBLIC_KEY_ID_RE
from .amazonpay.models import (
    CURRENCY_DECIMALS,
    MAX_CHARGE,
    REFUND_OVER_CAPTURE_CAP,
    REFUND_OVER_CAPTURE_RATE,
)

# --------------------------------------------------------------------------- errors


class RuleError(ValueError):
    """An operator input that breaks a rule; ``str()`` is ready to show.

    ``field`` is the operator-facing name of the input ("Amount"), ``rule`` what it must be,
    ``example`` a value that would pass. ``suggestions`` holds close matches when there are any
    (carrier codes), best first.
    """

    def __init__(
        self, field: str, rule: str, example: str, *, suggestions: tuple[str, ...] = ()
    ) -> None:
        super().__init__(field, rule, example)
        self.field = field
        self.rule = rule
        self.example = example
        self.suggestions = suggestions

    def __str__(self) -> str:
        return f"{self.field}: {self.rule} (e.g. {self.example})"


# --------------------------------------------------------------------------- money


@dataclass(frozen=True, slots=True)
class Currency:
    """A ledger currency: its code, decimals, largest charge and a sample amount for messages."""

    code: str
    decimals: int
    maximum: Decimal
    example: str

    @property
    def exponent(self) -> Decimal:
        """The quantum of one minor unit: ``Decimal("0.01")``, or ``Decimal("1")`` for JPY."""
        return Decimal(1).scaleb(-self.decimals)


#: REFERENCE section 4: ledger currencies, decimals and the maximum charge.
CURRENCIES: dict[str, Currency] = {
    code: Currency(code, decimals, MAX_CHARGE[code], "1400" if decimals == 0 else "14.00")
    for code, decimals in CURRENCY_DECIMALS.items()
}

# Only ASCII digits with one optional '.' between digits. ``re.ASCII`` is belt and braces: the
# class is spelled [0-9] because \d would also match Arabic-Indic and other Unicode digits.
_AMOUNT_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
# Surrounding ASCII whitespace is forgiven (pasting adds it); anything else is not.
_TRIM = " \t\r\n"


def check_currency(code: str | None) -> Currency:
    """The :class:`Currency` for ``code`` (case and surrounding spaces forgiven)."""
    text = (code or "").strip(_TRIM).upper()
    currency = CURRENCIES.get(text)
    if currency is None:
        rule = "is required" if not text else f"{code!r} is not supported"
        raise RuleError("Currency", f"{rule}; use one of {', '.join(CURRENCIES)}", "USD")
    return currency


def _decimals_rule(currency: Currency) -> str:
    if currency.decimals == 0:
        return f"no decimals for {currency.code}"
    return f"at most {currency.decimals} decimals for {currency.code}"


def _why_not_plain(text: str) -> str:
    """The most helpful wording for an amount that is not plain digits."""
    if not text:
        return "is required"
    if text[0] in "+-":
        return "digits only, no sign; it must be more than 0"
    if "," in text or "'" in text or "_" in text:
        return "digits and '.' only: no thousands separators, and '.' before the decimals"
    if any(c.isspace() for c in text):
        return "digits and '.' only, no spaces"
    if "e" in text.lower() and any(c.isdigit() for c in text):
        return "write the number out in digits (no exponent)"
    if text.count(".") > 1:
        return "only one '.'"
    if text.startswith(".") or text.endswith("."):
        return "digits on both sides of the '.'"
    return "plain digits 0-9 and one optional '.' only"


def parse_amount(text: str, currency: str) -> Decimal:
    """Parse an operator-typed amount into a ``Decimal`` with the currency's decimals.

    Accepts only ``^[0-9]+(\\.[0-9]+)?$`` (after trimming surrounding whitespace), more than 0,
    no more decimals than the currency has, and at most the currency's maximum charge. Python's
    ``Decimal`` is deliberately not the validator: it accepts exponents, ``NaN``, ``Infinity``,
    underscores, signs and non-ASCII digits. ``"14.5"`` in USD gives ``Decimal("14.50")``.
    """
    cur = check_currency(currency)
    raw = text.strip(_TRIM) if isinstance(text, str) else ""
    if not isinstance(text, str) or not _AMOUNT_RE.fullmatch(raw):
        raise RuleError("Amount", _why_not_plain(raw), cur.example)
    _, _, fraction = raw.partition(".")
    # Strict on purpose: "14.500" is refused like "14.505", so the message always fits.
    if len(fraction) > cur.decimals:
        raise RuleError("Amount", _decimals_rule(cur), cur.example)
    return check_amount(Decimal(raw), cur.code)


def check_amount(amount: Decimal, currency: str) -> Decimal:
    """Check an amount already held as ``Decimal``; return it quantized to the currency.

    Refuses non-Decimal values (floats above all), non-finite values, 0 and below, too many
    decimals and anything above the currency's maximum charge.
    """
    cur = check_currency(currency)
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise RuleError("Amount", "must be a number of digits", cur.example)
    if amount <= 0:
        raise RuleError("Amount", "must be more than 0", cur.example)
    # Comparisons are exact whatever the context precision; quantize is not, so the maximum is
    # checked first (a 40-digit amount would make quantize raise InvalidOperation).
    if amount > cur.maximum:
        raise RuleError(
            "Amount", f"at most {format_money(cur.maximum, cur.code)} per charge", cur.example
        )
    if amount != amount.quantize(cur.exponent, rounding=ROUND_HALF_UP):
        raise RuleError("Amount", _decimals_rule(cur), cur.example)
    return amount.quantize(cur.exponent)


def check_within_authorized(
    amount: Decimal, currency: str, authorized_remaining: Decimal
) -> Decimal:
    """Refuse an amount above what the charge still has authorized (REFERENCE 4, chosen rule)."""
    cur = check_currency(currency)
    remaining = quantize(authorized_remaining, cur.code)
    if amount > remaining:
        if remaining <= 0:
            raise RuleError(
                "Amount",
                "this charge has nothing left to capture; create a new charge on the "
                "charge permission for the rest of the order",
                cur.example,
            )
        raise RuleError(
            "Amount",
            f"at most {format_money(remaining, cur.code)}, what the charge still has authorized",
            amount_text(remaining, cur.code),
        )
    return amount


def check_capture_amount(
    amount: Decimal | str,
    currency: str,
    authorized_remaining: Decimal | None,
    *,
    charge_currency: str | None = None,
) -> Decimal:
    """Every rule of a capture amount; return it as a quantized ``Decimal``.

    ``amount`` may be the operator's text or a ``Decimal``. ``charge_currency`` (when known)
    must equal ``currency`` (Amazon answers 400 ``CurrencyMismatch`` otherwise).
    ``authorized_remaining`` is the charge's authorized amount not yet captured; pass ``None``
    when it is not known yet: the data-free checks still run, and the caller checks
    :func:`check_within_authorized` once it has read the charge.
    """
    cur = check_currency(currency)
    if charge_currency is not None and check_currency(charge_currency).code != cur.code:
        expected = check_currency(charge_currency).code
        raise RuleError("Currency", f"must be the charge's currency, {expected}", expected)
    value = (
        parse_amount(amount, cur.code)
        if isinstance(amount, str)
        else check_amount(amount, cur.code)
    )
    if authorized_remaining is not None:
        check_within_authorized(value, cur.code, authorized_remaining)
    return value




def refund_limit(captured: Decimal, already_refunded: Decimal, currency: str) -> Decimal:
    """How much may still be refunded: captured + min(15 %, cap) - already refunded, >= 0."""
    cur = check_currency(currency)
    extra = (captured * REFUND_OVER_CAPTURE_RATE).quantize(cur.exponent, rounding=ROUND_DOWN)
    ceiling = captured + min(extra, REFUND_OVER_CAPTURE_CAP[cur.code])
    return max(Decimal(0), ceiling - already_refunded).quantize(cur.exponent)


def check_refund_amount(
    amount: Decimal | str, currency: str, captured: Decimal, already_refunded: Decimal
) -> Decimal:
    """Every rule of a refund amount against the charge's captured and refunded amounts."""
    cur = check_currency(currency)
    value = (
        parse_amount(amount, cur.code)
        if isinstance(amount, str)
        else check_amount(amount, cur.code)
    )
    limit = refund_limit(captured, already_refunded, cur.code)
    if value > limit:
        raise RuleError(
            "Refund amount",
            f"at most {format_money(limit, cur.code)} can still be refunded on this charge",
            amount_text(limit, cur.code) if limit > 0 else cur.example,
        )
    return value


def quantize(amount: Decimal, currency: str) -> Decimal:
    """``amount`` with exactly the currency's decimals (half-up rounding; never a float)."""
    cur = check_currency(currency)
    if isinstance(amount, float) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"money must be a finite number, not {value}")
    try:
        return value.quantize(cur.exponent, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"{value} is too large to be an amount of money") from None


def amount_text(amount: Decimal, currency: str) -> str:
    """The amount as Amazon writes it on the wire: ``"14.00"``, ``"1400"`` (no grouping)."""
    return f"{quantize(amount, currency):f}"


def format_money(amount: Decimal, currency: str) -> str:
    """Operator-facing money: ``"14.00 USD"``, ``"1400 JPY"`` (no grouping, so it pastes back)."""
    return f"{amount_text(amount, currency)} {check_currency(currency).code}"


def money_json(amount: Decimal, currency: str) -> dict[str, str]:
    """Amazon's Money object: ``{"amount": "14.00", "currencyCode": "USD"}``."""
    return {"amount": amount_text(amount, currency), "currencyCode": check_currency(currency).code}


# --------------------------------------------------------------------------- soft descriptor

SOFT_DESCRIPTOR_MAX = 16
SOFT_DESCRIPTOR_PREFIX = "AMZ* "


def check_soft_descriptor(text: str | None) -> str | None:
    """The soft descriptor to send, or ``None`` when empty (nothing is sent; Amazon's default).

    At most 16 characters of printable ASCII (0x20-0x7E), no leading or trailing space
    (REFERENCE 4, chosen: the statement line is ASCII on every card network).
    """
    example = "MYSHOP ORDER 42"
    if text is None or text == "":
        return None
    if text != text.strip(" "):
        raise RuleError("Soft descriptor", "no space at the start or the end", example)
    bad = sorted({c for c in text if not " " <= c <= "~"})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:3])
        raise RuleError(
            "Soft descriptor",
            f"printable ASCII letters, digits, spaces and punctuation only (not {shown})",
            example,
        )
    if len(text) > SOFT_DESCRIPTOR_MAX:
        raise RuleError(
            "Soft descriptor",
            f"at most {SOFT_DESCRIPTOR_MAX} characters (this one has {len(text)})",
            example,
        )
    return text


def descriptor_preview(text: str | None) -> str:
    """What the buyer's card statement shows: ``"AMZ* <text>"`` (no validation: live preview)."""
    if not text:
        return SOFT_DESCRIPTOR_PREFIX + "<your store name>"
    return SOFT_DESCRIPTOR_PREFIX + text


# --------------------------------------------------------------------------- delivery tracking

TRACKING_NUMBER_MAX = 60
_TRACKING_RE = re.compile(r"[A-Za-z0-9 \-]+", re.ASCII)


def check_tracking_number(text: str | None) -> str:
    """The trimmed tracking number: 1-60 ASCII letters, digits, spaces and '-' (REFERENCE 5)."""
    example = "1Z999AA10123456784"
    value = (text or "").strip()
    if not value:
        raise RuleError("Tracking number", "is required", example)
    if len(value) > TRACKING_NUMBER_MAX:
        raise RuleError("Tracking number", f"at most {TRACKING_NUMBER_MAX} characters", example)
    if not _TRACKING_RE.fullmatch(value):
        raise RuleError("Tracking number", "letters, digits, spaces and '-' only", example)
    return value


@dataclass(frozen=True, slots=True)
class Carrier:
    """A carrier the Delivery Tracker accepts: Amazon's ``code`` and a display ``name``."""

    code: str
    name: str


@functools.cache
def carriers() -> tuple[Carrier, ...]:
    """Every carrier of ``resources/carrier_codes.csv`` (read once), in file order."""
    with paths.resource("carrier_codes.csv").open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        return tuple(
            Carrier(row["code"].strip(), row["name"].strip()) for row in rows if row.get("code")
        )


@functools.cache
def _carriers_by_code() -> dict[str, Carrier]:
    return {carrier.code.upper(): carrier for carrier in carriers()}


def find_carrier(code: str | None) -> Carrier | None:
    """The carrier with this exact code (case and surrounding spaces forgiven), or ``None``."""
    return _carriers_by_code().get((code or "").strip().upper())


def search_carriers(text: str, limit: int = 20) -> list[Carrier]:
    """Carriers whose code or name contains ``text``, case-insensitively, best first.

    Ranking: exact code, code prefix, name prefix, a word of the name starting with the text,
    then any other substring; ties keep the file's order. Empty text gives nothing.
    """
    needle = text.strip().casefold()
    if not needle or limit <= 0:
        return []
    ranked: list[tuple[int, int, Carrier]] = []
    for index, carrier in enumerate(carriers()):
        code, name = carrier.code.casefold(), carrier.name.casefold()
        if code == needle:
            rank = 0
        elif code.startswith(needle):
            rank = 1
        elif name.startswith(needle):
            rank = 2
        elif any(word.startswith(needle) for word in re.split(r"[\s_\-/().]+", name)):
            rank = 3
        elif needle in code or needle in name:
            rank = 4
        else:
            continue
        ranked.append((rank, index, carrier))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [carrier for _, _, carrier in ranked[:limit]]


def check_carrier(code: str | None) -> Carrier:
    """The carrier for ``code``; refuses unknown codes, suggesting close ones when it can."""
    text = (code or "").strip()
    if not text:
        raise RuleError("Carrier", "is required: a carrier code from Amazon's list", "UPS")
    carrier = find_carrier(text)
    if carrier is not None:
        return carrier
    suggestions = [c.code for c in search_carriers(text, limit=5)]
    if len(suggestions) < 5:
        close = difflib.get_close_matches(text.upper(), list(_carriers_by_code()), n=5, cutoff=0.6)
        suggestions += [
            _carriers_by_code()[c].code
            for c in close
            if _carriers_by_code()[c].code not in suggestions
        ]
    suggestions = suggestions[:5]
    if suggestions:
        named = ", ".join(f"{c} ({_carriers_by_code()[c.upper()].name})" for c in suggestions)
        rule = f"{text!r} is not a carrier code Amazon accepts; did you mean {named}?"
        example = suggestions[0]
    else:
        rule = f"{text!r} is not a carrier code Amazon accepts; search the list by name"
        example = "UPS"
    raise RuleError("Carrier", rule, example, suggestions=tuple(suggestions))


# --------------------------------------------------------------------------- IDs


class IdKind(enum.StrEnum):
    """The kinds of Amazon Pay ID an operator pastes, by their documented forms."""

    CHECKOUT_SESSION = "checkoutSession"
    CHARGE_PERMISSION = "chargePermission"
    CHARGE = "charge"
    REFUND = "refund"


_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_PERMISSION = r"[SPsp][0-9]{2}-[0-9]{7}-[0-9]{7}"
_ID_PATTERNS: dict[IdKind, re.Pattern[str]] = {
    IdKind.CHECKOUT_SESSION: re.compile(_UUID, re.ASCII),
    IdKind.CHARGE_PERMISSION: re.compile(_PERMISSION, re.ASCII),
    IdKind.CHARGE: re.compile(_PERMISSION + r"-[Cc][0-9]{6}", re.ASCII),
    IdKind.REFUND: re.compile(_PERMISSION + r"-[Rr][0-9]{6}", re.ASCII),
}
_ID_EXAMPLES: dict[IdKind, tuple[str, str]] = {
    IdKind.CHECKOUT_SESSION: ("Checkout session ID", "bd504926-f659-4ad7-a1a9-9a747aaf5275"),
    IdKind.CHARGE_PERMISSION: ("Charge permission ID", "S01-1234567-1234567"),
    IdKind.CHARGE: ("Charge ID", "S01-1234567-1234567-C123456"),
    IdKind.REFUND: ("Refund ID", "S01-1234567-1234567-R123456"),
}
# Longest forms first so a charge ID inside text is not read as its permission ID.
_FIND_IDS_RE = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    rf"(?P<charge>{_ID_PATTERNS[IdKind.CHARGE].pattern})"
    rf"|(?P<refund>{_ID_PATTERNS[IdKind.REFUND].pattern})"
    rf"|(?P<chargePermission>{_PERMISSION})"
    rf"|(?P<checkoutSession>{_UUID})"
    r")(?![0-9A-Za-z])",
    re.ASCII,
)


def _normalise_id(kind: IdKind, text: str) -> str:
    # UUIDs are case-insensitive and Amazon writes them lower case; the other IDs upper case.
    return text.lower() if kind is IdKind.CHECKOUT_SESSION else text.upper()


def classify_id(text: str | None) -> IdKind | None:
    """What kind of ID ``text`` is (surrounding whitespace trimmed), or ``None``."""
    value = (text or "").strip()
    for kind, pattern in _ID_PATTERNS.items():
        if pattern.fullmatch(value):
            return kind
    return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def check_id(text: str | None, kind: IdKind) -> str:
    """``text`` trimmed and normalised if it is an ID of ``kind``; a :class:`RuleError` otherwise."""
    field, example = _ID_EXAMPLES[kind]
    value = (text or "").strip()
    found = classify_id(value)
    if found is kind:
        return _normalise_id(kind, value)
    if not value:
        raise RuleError(field, "is required", example)
    if found is not None:
        found_name = _ID_EXAMPLES[found][0]
        rule = f"this is a {_lower_first(found_name)}, not a {_lower_first(field)}"
        raise RuleError(field, rule, example)
    raise RuleError(field, f"must look like {example}", example)


def check_checkout_session_id(text: str | None) -> str:
    """A checkout session ID (a UUID), trimmed and lower-cased."""
    return check_id(text, IdKind.CHECKOUT_SESSION)


def check_charge_permission_id(text: str | None) -> str:
    """A charge permission ID (``S01-1234567-1234567``; P for production), trimmed."""
    return check_id(text, IdKind.CHARGE_PERMISSION)


def check_charge_id(text: str | None) -> str:
    """A charge ID (permission ID + ``-C`` + 6 digits), trimmed."""
    return check_id(text, IdKind.CHARGE)


def check_refund_id(text: str | None) -> str:
    """A refund ID (permission ID + ``-R`` + 6 digits), trimmed."""
    return check_id(text, IdKind.REFUND)


def charge_permission_id_of(text: str) -> str:
    """The charge permission ID a charge or refund ID (or a permission ID) belongs to."""
    value = text.strip()
    kind = classify_id(value)
    if kind in (IdKind.CHARGE, IdKind.REFUND, IdKind.CHARGE_PERMISSION):
        return _normalise_id(IdKind.CHARGE_PERMISSION, value[:19])
    field, example = _ID_EXAMPLES[IdKind.CHARGE_PERMISSION]
    raise RuleError(field, "needs a charge permission, charge or refund ID", example)


def find_ids(text: str) -> list[tuple[IdKind, str]]:
    """Every ID found anywhere in ``text`` (an export, pasted lines), normalised, de-duplicated,
    in order of first appearance."""
    seen: dict[str, IdKind] = {}
    for match in _FIND_IDS_RE.finditer(text):
        kind = IdKind(match.lastgroup)
        seen.setdefault(_normalise_id(kind, match.group(0)), kind)
    return [(kind, value) for value, kind in seen.items()]


def check_public_key_id(text: str | None) -> str:
    """A public key ID from Seller Central (e.g. ``SANDBOX-`` + 24 characters), trimmed.

    Only the characters it can have are checked: it goes into the signed ``authorization``
    header, where a space or a comma would break the header.
    """
    example = "SANDBOX-AHEGSJCM3L4EJNKS4X4NQVXJ"
    value = (text or "").strip()
    if not value:
        raise RuleError(
            "Public key ID", "is required (Seller Central shows it beside the key)", example
        )
    if not PUBLIC_KEY_ID_RE.fullmatch(value):
        raise RuleError("Public key ID", "letters, digits and '-' only, at most 100", example)
    return value


# --------------------------------------------------------------------------- meanings


class ObjectKind(enum.StrEnum):
    """Amazon Pay objects that carry a state, by Amazon's own names."""

    CHECKOUT_SESSION = "CheckoutSession"
    CHARGE_PERMISSION = "ChargePermission"
    CHARGE = "Charge"
    REFUND = "Refund"


@dataclass(frozen=True, slots=True)
class Explanation:
    """A state, reason code or error in words a shop owner can act on.

    ``final`` for a state: the object will not change state again (stop polling it). For an
    error: sending the same request again will not help without changing something first.
    """

    title: str
    meaning: str
    next_step: str
    final: bool


_NEW_SESSION_STEP = (
    "Nothing to capture or ship. The buyer cannot finish with this checkout: send them back to "
    'the start of checkout with a message such as "Your payment was not successful. Please try '
    'another payment method." A new checkout session starts when they click Amazon Pay again.'
)

# (kind, state) -> (title, meaning, next step, final)
_STATES: dict[tuple[ObjectKind, str], tuple[str, str, str, bool]] = {
    (ObjectKind.CHECKOUT_SESSION, "Open"): (
        "Checkout not finished",
        "The buyer is still in checkout, or your shop's site sent them back without confirming "
        "the payment with Amazon.",
        "If the order exists in your shop, complete the checkout (it must be done within 24 "
        "hours of the start of checkout). Otherwise wait: it expires after 24 hours.",
        False,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Completed"): (
        "Checkout completed",
        "The buyer finished checkout and Amazon accepted the payment method. The payment now "
        "lives on the charge permission and, when it was authorized, on the charge.",
        "Look at the charge: capture it when you ship the order.",
        True,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled"): (
        "Checkout canceled",
        "Checkout was not successful, and the buyer cannot finish it with this checkout session.",
        _NEW_SESSION_STEP,
        True,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Chargeable"): (
        "Ready to charge",
        "The buyer approved the payment, but nothing is reserved or charged yet: the buyer's "
        "payment method can be charged later, up to the amount still available on this "
        "permission.",
        "Charge it when you ship. Merchant Desk cannot create charges on a permission yet: "
        "your shop's Amazon Pay integration creates the charge (Create Charge); refresh the "
        "order afterwards to capture or follow it here.",
        False,
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable"): (
        "Cannot be charged right now",
        "Amazon cannot charge the buyer's payment method at the moment.",
        "Wait, or ask the buyer to check their payment method in their Amazon account; then "
        "refresh the order.",
        False,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed"): (
        "Permission closed",
        "No new charges can be made with this permission.",
        "Nothing more can be charged for this order through Amazon Pay; existing captures and "
        "refunds are unaffected.",
        True,
    ),
    (ObjectKind.CHARGE, "AuthorizationInitiated"): (
        "Payment being checked",
        "Amazon is still checking the buyer's payment. This can take up to 24 hours "
        "(30 seconds in the sandbox).",
        "Do not ship yet. Refresh later: it will become Authorized or Declined.",
        False,
    ),
    (ObjectKind.CHARGE, "Authorized"): (
        "Payment authorized",
        "The money is reserved on the buyer's payment method but not taken yet.",
        "Capture the payment when you ship, within 30 days (after that the authorization expires).",
        False,
    ),
    (ObjectKind.CHARGE, "CaptureInitiated"): (
        "Capture in progress",
        "Amazon is taking the money. This happens when the capture comes more than 7 days "
        "after the authorization.",
        "Wait and refresh: it will become Captured or Declined. Do not capture again.",
        False,
    ),
    (ObjectKind.CHARGE, "Captured"): (
        "Payment captured",
        "The money has been taken from the buyer's payment method.",
        "Ship the order and add its tracking number.",
        True,
    ),
    (ObjectKind.CHARGE, "Declined"): (
        "Payment declined",
        "Amazon could not take or reserve the money for this charge.",
        "Do not ship. Ask the buyer to pay another way.",
        True,
    ),
    (ObjectKind.CHARGE, "Canceled"): (
        "Charge canceled",
        "This charge will not take any money.",
        "If the order still has to be paid, create a new charge on the charge permission "
        "while it is Chargeable.",
        True,
    ),
    (ObjectKind.REFUND, "RefundInitiated"): (
        "Refund in progress",
        "Amazon is sending the money back to the buyer. Refunds are always processed in the "
        "background.",
        "Wait and refresh: it will become Refunded or Declined. Do not refund again.",
        False,
    ),
    (ObjectKind.REFUND, "Refunded"): (
        "Refunded",
        "The money has been returned to the buyer.",
        "Nothing to do.",
        True,
    ),
    (ObjectKind.REFUND, "Declined"): (
        "Refund declined",
        "Amazon could not return the money to the buyer.",
        "Try the refund again later; if it is declined again, contact Amazon Pay merchant "
        "support and settle with the buyer another way.",
        True,
    ),
}

# (kind, state, reasonCode) -> (meaning, next step); next step None keeps the state's.
_REASONS: dict[tuple[ObjectKind, str, str], tuple[str, str | None]] = {
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "BuyerCanceled"): (
        "The buyer canceled checkout.",
        None,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "Expired"): (
        "It was not completed within 24 hours, so it expired.",
        None,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "AmazonCanceled"): (
        "Amazon canceled checkout because of a problem on its side.",
        None,
    ),
    (ObjectKind.CHECKOUT_SESSION, "Canceled", "Declined"): (
        "The buyer's payment was declined: the payment method was refused, Amazon's fraud "
        "check stopped it, or the buyer did not pass the extra verification step.",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodInvalid"): (
        "The buyer's payment method was declined or is not valid any more.",
        "Ask the buyer to update their payment method in their Amazon account, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodDeleted"): (
        "The buyer deleted the payment method they chose.",
        "Ask the buyer to choose another payment method in their Amazon account, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "BillingAddressDeleted"): (
        "The buyer deleted the billing address of their payment method.",
        "Ask the buyer to add the billing address again in their Amazon account, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodExpired"): (
        "The buyer's card has expired.",
        "Ask the buyer to update the card in their Amazon account, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodNotAllowed"): (
        "The buyer's payment method cannot be used for this kind of payment.",
        "Ask the buyer to choose another payment method in their Amazon account.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "PaymentMethodNotSet"): (
        "No payment method is set on this permission.",
        "Ask the buyer to choose a payment method in their Amazon account.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "ChargeInProgress"): (
        "Another charge on this permission is still being processed.",
        "Wait until that charge is finished, then refresh.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "NonChargeable", "MFAFailed"): (
        "The buyer did not complete the extra verification step their bank asked for.",
        "Ask the buyer to try again or to pay another way.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "MerchantClosed"): (
        "Your shop closed this permission.",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "MerchantCanceled"): (
        "Your shop closed this permission (older name of the reason).",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "BuyerClosed"): (
        "The buyer closed this permission from their Amazon account.",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "BuyerCanceled"): (
        "The buyer closed this permission from their Amazon account (older name of the reason).",
        None,
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "AmazonCanceled"): (
        "Amazon closed this permission.",
        "Contact Amazon Pay merchant support if you need to know why.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "AmazonClosed"): (
        "Amazon closed it because the full amount has been charged.",
        "Nothing to do.",
    ),
    (ObjectKind.CHARGE_PERMISSION, "Closed", "Expired"): (
        "It expired 180 days after checkout.",
        "To charge more, the buyer must check out again.",
    ),
    (ObjectKind.CHARGE, "Declined", "SoftDeclined"): (
        "The payment was declined this time, but a retry may work.",
        "Do not ship yet. Try a new charge later, or ask the buyer to pay another way.",
    ),
    (ObjectKind.CHARGE, "Declined", "HardDeclined"): (
        "The payment method was refused and retrying will not help.",
        "Do not ship. The buyer must change their payment method (in their Amazon account) "
        "before a new charge can work.",
    ),
    (ObjectKind.CHARGE, "Declined", "AmazonRejected"): (
        "Amazon refused the payment.",
        "Do not ship. Ask the buyer to pay another way.",
    ),
    (ObjectKind.CHARGE, "Declined", "ProcessingFailure"): (
        "Amazon could not process the payment because of a problem on its side.",
        "Do not ship yet. Try a new charge later.",
    ),
    (ObjectKind.CHARGE, "Declined", "TransactionTimedOut"): (
        "Amazon could not finish checking the payment in time.",
        "Do not ship yet. Try a new charge later, or ask the buyer to pay another way.",
    ),
    (ObjectKind.CHARGE, "Canceled", "ExpiredUnused"): (
        "It was authorized but not captured within 30 days, so the authorization expired.",
        None,
    ),
    (ObjectKind.CHARGE, "Canceled", "AmazonCanceled"): ("Amazon canceled this charge.", None),
    (ObjectKind.CHARGE, "Canceled", "MerchantCanceled"): ("Your shop canceled this charge.", None),
    (ObjectKind.CHARGE, "Canceled", "ChargePermissionCanceled"): (
        "It was canceled because its charge permission was closed.",
        "Nothing more can be charged through this permission.",
    ),
    (ObjectKind.CHARGE, "Canceled", "BuyerCanceled"): (
        "The buyer canceled this payment.",
        None,
    ),
    (ObjectKind.REFUND, "Declined", "AmazonRejected"): ("Amazon refused the refund.", None),
    (ObjectKind.REFUND, "Declined", "ProcessingFailure"): (
        "Amazon could not process the refund because of a problem on its side.",
        "Try the refund again later.",
    ),
}


def _object_kind(kind: ObjectKind | str) -> ObjectKind | None:
    if isinstance(kind, ObjectKind):
        return kind
    folded = str(kind).replace("_", "").replace(" ", "").casefold()
    for member in ObjectKind:
        if member.value.casefold() == folded:
            return member
    return None


def explain(
    object_kind: ObjectKind | str, state: str | None, reason_code: str | None = None
) -> Explanation:
    """The plain-language meaning of an object's state and reason code, with a next step.

    Never raises: an unknown kind, state or reason gets a generic explanation that shows
    Amazon's own words, and an unknown state is treated as not final (keep refreshing).
    """
    kind = _object_kind(object_kind)
    state = (state or "").strip()
    reason = (reason_code or "").strip() or None
    base = _STATES.get((kind, state)) if kind is not None else None
    if base is None:
        what = kind.value if kind is not None else str(object_kind)
        shown = f"the state '{state}'" if state else "no state"
        if reason:
            shown += f" with reason '{reason}'"
        return Explanation(
            title=state or "Unknown state",
            meaning=f"Amazon reports {shown} for this {what}, which Merchant Desk does not "
            "know yet.",
            next_step="Refresh the order later, and check it in Seller Central if it stays so.",
            final=False,
        )
    title, meaning, next_step, final = base
    if reason is None:
        return Explanation(title, meaning, next_step, final)
    detail = _REASONS.get((kind, state, reason))
    if detail is None:
        return Explanation(title, f"{meaning} Amazon's reason: {reason}.", next_step, final)
    reason_meaning, reason_step = detail
    return Explanation(title, f"{meaning} {reason_meaning}", reason_step or next_step, final)


def is_final(object_kind: ObjectKind | str, state: str | None) -> bool:
    """True when this object will not change state again, so refreshing it is pointless.

    About the object only: a Completed checkout session is final even while its charge is
    still pending, so the desk must look at every object of an order. Unknown is not final.
    """
    kind = _object_kind(object_kind)
    base = _STATES.get((kind, (state or "").strip())) if kind is not None else None
    return bool(base and base[3])


# reasonCode -> (title, meaning, next step, final)
_ERRORS: dict[str, tuple[str, str, str, bool]] = {
    "InvalidParameterValue": (
        "A value was refused",
        "Amazon refused one of the values sent (for example an unknown ID, tracking number or "
        "carrier code).",
        "Check the values against Amazon's message below, correct them and try again.",
        True,
    ),
    "InvalidRequest": (
        "Request refused",
        "Amazon refused the request as it was sent.",
        "Check Amazon's message below; if it looks like a Merchant Desk problem, report it.",
        True,
    ),
    "InvalidRequestFormat": (
        "Request not understood",
        "Amazon could not read the request.",
        "This is a Merchant Desk problem: report it with Amazon's message.",
        True,
    ),
    "MissingHeader": (
        "Request incomplete",
        "A required part of the request was missing.",
        "This is a Merchant Desk problem: report it with Amazon's message.",
        True,
    ),
    "MissingParameterValue": (
        "A value is missing",
        "A required value was not sent.",
        "Fill in every required field and try again.",
        True,
    ),
    "InvalidHeaderValue": (
        "Request refused",
        "Part of the request was not accepted, often because this computer's clock is wrong.",
        "Check that the computer's date, time and time zone are right, then try again.",
        True,
    ),
    "UnrecognizedField": (
        "Request refused",
        "The request contained a field Amazon does not know.",
        "This is a Merchant Desk problem: report it with Amazon's message.",
        True,
    ),
    "DuplicateIdempotencyKey": (
        "Different request with the same key",
        "This operation was already sent once with different details, so Amazon refused to "
        "treat it as a new one.",
        "Refresh the order to see what really happened before doing anything else.",
        True,
    ),
    "CurrencyMismatch": (
        "Wrong currency",
        "The currency does not match the currency of the order.",
        "Use the order's own currency.",
        True,
    ),
    "TransactionAmountExceeded": (
        "Amount too high",
        "The amount is more than what is still authorized or allowed for this order.",
        "Refresh the order to see the amount still available, and use at most that.",
        True,
    ),
    "CheckoutSessionCanceled": (
        "Checkout was canceled",
        "This checkout can no longer be completed.",
        _NEW_SESSION_STEP,
        True,
    ),
    "InvalidSandboxSimulationSpecified": (
        "Unknown sandbox test code",
        "A sandbox simulation code was not valid for this operation.",
        "Remove or correct the simulation code.",
        True,
    ),
    "UnauthorizedAccess": (
        "Not allowed",
        "Amazon did not accept the merchant account, store or key used.",
        "Check the merchant ID, store ID, public key ID and region in the settings.",
        True,
    ),
    "InvalidRequestSignature": (
        "Signature not accepted",
        "Amazon could not verify the request's signature.",
        "Check that the public key ID matches the private key (both from Seller Central), that "
        "the environment (sandbox or live) is right, and that this computer's clock is correct.",
        True,
    ),
    "InvalidAccountStatus": (
        "Account not ready",
        "Your Amazon Pay merchant account cannot do this right now (it may be suspended or not "
        "fully set up).",
        "Check your account in Seller Central or contact Amazon Pay merchant support.",
        True,
    ),
    "ResourceNotFound": (
        "Not found on Amazon",
        "Amazon does not know this ID. Amazon deletes checkout sessions 30 days after they "
        "start, and IDs from the other environment (sandbox or live) are not found either.",
        "Check the ID and the environment. Details already stored by Merchant Desk are kept.",
        True,
    ),
    "UnsupportedOperation": (
        "Not supported",
        "Amazon does not support this operation here.",
        "Check the environment and region in the settings.",
        True,
    ),
    "AmountMismatch": (
        "Amount differs from checkout",
        "The amount must be exactly the amount of the checkout session.",
        "Use the checkout session's own amount.",
        True,
    ),
    "InvalidCheckoutSessionStatus": (
        "Checkout already finished",
        "This checkout session is no longer open, so it cannot be completed.",
        "Refresh the order to see its current state.",
        True,
    ),
    "InvalidChargePermissionStatus": (
        "Permission cannot be charged",
        "The charge permission is not Chargeable (it is closed, or the payment method needs "
        "attention).",
        "Refresh the order to see why.",
        True,
    ),
    "InvalidChargeStatus": (
        "Charge not in the right state",
        "This operation is not possible in the charge's current state (for example capturing "
        "a charge that is not Authorized).",
        "Refresh the order to see the charge's current state.",
        True,
    ),
    "ChargePermissionNotModifiable": (
        "Permission cannot be changed",
        "This charge permission can no longer be changed.",
        "Refresh the order to see its current state.",
        True,
    ),
    "SoftDeclined": (
        "Payment declined (retry may work)",
        "The payment was declined this time, but a retry may work.",
        "Try again later, or ask the buyer to pay another way.",
        False,
    ),
    "HardDeclined": (
        "Payment declined",
        "The payment method was refused and retrying will not help.",
        "The buyer must change their payment method before a new attempt can work.",
        True,
    ),
    "AmazonRejected": (
        "Amazon refused the payment",
        "Amazon refused this payment.",
        "Ask the buyer to pay another way.",
        True,
    ),
    "TransactionCountExceeded": (
        "Too many charges",
        "This charge permission already has the most charges Amazon allows (25).",
        "Ask the buyer to check out again for anything more.",
        True,
    ),
    "TransactionTimedOut": (
        "Payment check timed out",
        "Amazon could not finish checking the payment in time.",
        "Try again later, or ask the buyer to pay another way.",
        False,
    ),
    "MFANotCompleted": (
        "Buyer verification not completed",
        "The buyer did not complete the extra verification step their bank asked for.",
        "Ask the buyer to check out again and complete the verification.",
        True,
    ),
    "PaymentMethodNotAllowed": (
        "Payment method not allowed",
        "The buyer's payment method cannot be used for this payment.",
        "Ask the buyer to choose another payment method.",
        True,
    ),
    "TooManyRequests": (
        "Amazon asks to slow down",
        "Too many requests were sent in a short time; Amazon paused them.",
        "Wait a moment and try again. Nothing was changed by the refused request.",
        False,
    ),
    "InternalServerError": (
        "Amazon had a problem",
        "Something went wrong on Amazon's side.",
        "Wait a few minutes and try again; refresh the order first to see whether it went through.",
        False,
    ),
    "ProcessingFailure": (
        "Amazon could not process it",
        "Amazon could not process the request because of a problem on its side.",
        "Wait a few minutes and try again.",
        False,
    ),
    "ServiceUnavailable": (
        "Amazon Pay is unavailable",
        "Amazon Pay is temporarily unavailable.",
        "Wait a few minutes and try again.",
        False,
    ),
}

#: Every error reasonCode of REFERENCE section 6 that has its own explanation.
ERROR_REASON_CODES: frozenset[str] = frozenset(_ERRORS)


def explain_error(reason_code: str | None, message: str | None = None) -> Explanation:
    """The plain-language meaning of an API error, always showing Amazon's code and message.

    ``final`` is False when sending the same request again may succeed (throttling, Amazon's
    own problems, soft declines). Unknown codes get a generic explanation; never raises.
    """
    code = (reason_code or "").strip()
    said = f" Amazon said ({code or 'no reason code'}): {message.strip()}" if message else ""
    known = _ERRORS.get(code)
    if known is None:
        return Explanation(
            title=f"Amazon refused the request ({code})" if code else "Amazon refused the request",
            meaning=f"Amazon answered with a reason Merchant Desk does not know yet.{said}",
            next_step="Read Amazon's message; refresh the order to see its current state "
            "before trying again.",
            final=True,
        )
    title, meaning, next_step, final = known
    return Explanation(f"{title} ({code})", meaning + said, next_step, final)


#: Every (object kind, state) pair of REFERENCE section 4.
KNOWN_STATES: frozenset[tuple[ObjectKind, str]] = frozenset(_STATES)
#: Every (object kind, state, reasonCode) triple of REFERENCE section 4.
KNOWN_REASONS: frozenset[tuple[ObjectKind, str, str]] = frozenset(_REASONS)
