"""Operator-input rules: amounts, soft descriptor, tracking number, carrier, IDs, key IDs.

Everything here is pure: no Qt, no network, no SQLite. The desk runs these checks *before*
anything is fetched or sent, so a refused input never reaches Amazon. Every refusal is a
:class:`RuleError` naming the field, the rule and an example of a good value, so the window and
the command line can show it as is.

Sources: REFERENCE sections 4 (money, soft descriptor, IDs) and 5 (Delivery Tracker); rules
marked "(chosen)" there are the project's own and the emulator enforces the same ones. What
states and reason codes mean is :mod:`merchant_desk.meanings`.
"""

from __future__ import annotations

import csv
import difflib
import enum
import functools
import re
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote

from . import paths
from .amazonpay.identifiers import PUBLIC_KEY_ID_RE
from .i18n import N_, _
from .money import (
    LEDGER_CURRENCIES,
    MAX_CHARGE,
    PRESENTMENT_CURRENCIES,
    Money,
    MoneyError,
    decimals_of,
    refund_cap,
)

# --------------------------------------------------------------------------- errors


class RuleError(ValueError):
    """An operator input that breaks a rule; ``str()`` is ready to show, in the active language.

    ``field`` is the input's English name ("Amount"), stable for code to match on, and
    ``label`` its name in the active language; ``rule`` says what it must be (in the active
    language too), ``example`` is a value that would pass. ``suggestions`` holds close
    matches when there are any (carrier codes), best first.
    """

    def __init__(
        self, field: str, rule: str, example: str, *, suggestions: tuple[str, ...] = ()
    ) -> None:
        super().__init__(field, rule, example)
        self.field = field
        self.rule = rule
        self.example = example
        self.suggestions = suggestions
        # in the language active where the rule was broken, like ``rule``
        self.label = _(field)
        self._text = _("{field}: {rule} (e.g. {example})").format(
            field=self.label, rule=rule, example=example)

    def __str__(self) -> str:
        return self._text


# --------------------------------------------------------------------------- money

#: The currencies an operator types amounts in by default: Amazon's ledger currencies.
CURRENCIES: tuple[str, ...] = LEDGER_CURRENCIES
#: Every currency an order may be in: EU and UK merchants charge in twelve (REFERENCE 4).
ORDER_CURRENCIES: tuple[str, ...] = PRESENTMENT_CURRENCIES


def _example(currency: str, locale: str | None = None) -> str:
    """A good amount for messages: ``14.00``, ``1400`` for JPY; "14,00" in Italian."""
    if locale is not None:
        from .money_locale import example_text

        return example_text(currency, locale)
    return "1400" if decimals_of(currency) == 0 else "14.00"


def _typed(amount: Money, locale: str | None) -> str:
    """``amount`` as the operator would type it back."""
    if locale is not None:
        from .money_locale import input_text

        return input_text(amount, locale)
    return amount.amount_text()


def _shown(amount: Money, locale: str | None) -> str:
    """``amount`` in a message: "150000.00 EUR", or "150.000,00 EUR" in Italian."""
    if locale is not None:
        from .money_locale import format_money

        return format_money(amount, locale, code=True)
    return str(amount)


def check_currency(code: str | None) -> str:
    """The ledger currency ``code`` names (case and surrounding spaces forgiven)."""
    text = (code or "").strip(" \t\r\n").upper()
    if text not in ORDER_CURRENCIES:
        currencies = ", ".join(ORDER_CURRENCIES)
        if not text:
            rule = _("is required; use one of {currencies}").format(currencies=currencies)
        else:
            rule = _("{code} is not supported; use one of {currencies}").format(
                code=repr(code), currencies=currencies)
        raise RuleError(N_("Currency"), rule, "USD")
    return text


def parse_amount(text: str, currency: str, locale: str | None = None) -> Money:
    """An operator-typed amount (:meth:`Money.parse_text`), more than 0 and at most the
    currency's maximum charge. ``"14.5"`` in USD gives ``Money(Decimal("14.50"), "USD")``.

    With ``locale`` (what the window and the command line pass: the active locale) the text
    may be written that locale's way ("14,50", :func:`merchant_desk.money_locale.parse_typed`),
    and the messages' amounts and examples are too.
    """
    code = check_currency(currency)
    try:
        if locale is None:
            money = Money.parse_text(text, code)
        else:
            from .money_locale import parse_typed

            money = parse_typed(text, code, locale)
    except MoneyError as error:
        raise RuleError(N_("Amount"), str(error), _example(code, locale)) from None
    return check_amount(money, locale)


def check_amount(amount: Money, locale: str | None = None) -> Money:
    """An amount to charge, capture or refund: more than 0, at most the maximum charge."""
    code = check_currency(amount.currency_code)
    if amount.amount <= 0:
        raise RuleError(N_("Amount"), _("must be more than 0"), _example(code, locale))
    limit = MAX_CHARGE.get(code)  # documented for the ledger currencies only
    maximum = Money(limit, code) if limit is not None else None
    if maximum is not None and amount > maximum:
        raise RuleError(N_("Amount"), _("at most {amount} per charge").format(
            amount=_shown(maximum, locale)), _example(code, locale))
    return amount


def _as_money(amount: Money | Decimal | str, currency: str, locale: str | None) -> Money:
    """The operator's text, a ``Decimal`` or a ``Money``, checked as an amount in ``currency``."""
    code = check_currency(currency)
    if isinstance(amount, str):
        return parse_amount(amount, code, locale)
    if isinstance(amount, Money):
        if amount.currency_code != code:
            raise RuleError(N_("Currency"), _("must be {currency}").format(currency=code), code)
        return check_amount(amount, locale)
    if not isinstance(amount, Decimal):
        raise RuleError(N_("Amount"), _("must be a number of digits"), _example(code, locale))
    try:
        return check_amount(Money(amount, code), locale)
    except MoneyError as error:
        raise RuleError(N_("Amount"), str(error), _example(code, locale)) from None


def check_within_authorized(
    amount: Money, authorized_remaining: Money, locale: str | None = None
) -> Money:
    """Refuse an amount above what the charge still has authorized (REFERENCE 4, chosen rule)."""
    if amount > authorized_remaining:
        if authorized_remaining.amount <= 0:
            raise RuleError(
                N_("Amount"),
                _("this charge has nothing left to capture; create a new charge on the "
                  "charge permission for the rest of the order"),
                _example(amount.currency_code, locale),
            )
        raise RuleError(
            N_("Amount"),
            _("at most {amount}, what the charge still has authorized").format(
                amount=_shown(authorized_remaining, locale)),
            _typed(authorized_remaining, locale),
        )
    return amount


def check_capture_amount(
    amount: Money | Decimal | str,
    currency: str,
    authorized_remaining: Money | None,
    *,
    charge_currency: str | None = None,
    locale: str | None = None,
) -> Money:
    """Every rule of a capture amount.

    ``amount`` may be the operator's text, a ``Decimal`` or a ``Money``. ``charge_currency``
    (when known) must equal ``currency`` (Amazon answers 400 ``CurrencyMismatch`` otherwise).
    ``authorized_remaining`` is the charge's authorized amount not yet captured; pass ``None``
    when it is not known yet: the data-free checks still run, and the caller checks
    :func:`check_within_authorized` once it has read the charge. ``locale``: as in
    :func:`parse_amount`.
    """
    code = check_currency(currency)
    if charge_currency is not None and check_currency(charge_currency) != code:
        expected = check_currency(charge_currency)
        raise RuleError(N_("Currency"), _("must be the charge's currency, {currency}").format(
            currency=expected), expected)
    value = _as_money(amount, code, locale)
    if authorized_remaining is not None:
        check_within_authorized(value, authorized_remaining, locale)
    return value


def refund_limit(captured: Money, already_refunded: Money) -> Money:
    """How much may still be refunded: captured + min(15 %, cap) - already refunded, >= 0."""
    code = check_currency(captured.currency_code)
    return max(Money.zero(code), refund_cap(captured) - already_refunded)


def check_refund_amount(
    amount: Money | Decimal | str,
    captured: Money,
    already_refunded: Money,
    locale: str | None = None,
) -> Money:
    """Every rule of a refund amount against the charge's captured and refunded amounts.
    ``locale``: as in :func:`parse_amount`."""
    code = check_currency(captured.currency_code)
    value = _as_money(amount, code, locale)
    limit = refund_limit(captured, already_refunded)
    if value > limit:
        raise RuleError(
            N_("Refund amount"),
            _("at most {amount} can still be refunded on this charge").format(
                amount=_shown(limit, locale)),
            _typed(limit, locale) if limit.amount > 0 else _example(code, locale),
        )
    return value


# --------------------------------------------------------------------------- soft descriptor

SOFT_DESCRIPTOR_MAX = 16
#: The field's one name, on its label, in its errors and in the confirmation.
SOFT_DESCRIPTOR_NAME = N_("Statement text (soft descriptor)")
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
        raise RuleError(SOFT_DESCRIPTOR_NAME, _("no space at the start or the end"), example)
    bad = sorted({c for c in text if not " " <= c <= "~"})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:3])
        raise RuleError(
            SOFT_DESCRIPTOR_NAME,
            _("printable ASCII letters, digits, spaces and punctuation only (not {characters})")
            .format(characters=shown),
            example,
        )
    if len(text) > SOFT_DESCRIPTOR_MAX:
        raise RuleError(
            SOFT_DESCRIPTOR_NAME,
            _("at most {limit} characters (this one has {count})").format(
                limit=SOFT_DESCRIPTOR_MAX, count=len(text)),
            example,
        )
    return text


def descriptor_preview(text: str | None) -> str:
    """What the buyer's card statement shows: ``"AMZ* <text>"`` (no validation: live preview)."""
    if not text:
        return SOFT_DESCRIPTOR_PREFIX + _("<your store name>")
    return SOFT_DESCRIPTOR_PREFIX + text


# --------------------------------------------------------------------------- delivery tracking

TRACKING_NUMBER_MAX = 60
_TRACKING_RE = re.compile(r"[A-Za-z0-9 \-]+", re.ASCII)


def check_tracking_number(text: str | None) -> str:
    """The trimmed tracking number: 1-60 ASCII letters, digits, spaces and '-' (REFERENCE 5)."""
    example = "1Z999AA10123456784"
    value = (text or "").strip()
    if not value:
        raise RuleError(N_("Tracking number"), _("is required"), example)
    if len(value) > TRACKING_NUMBER_MAX:
        raise RuleError(N_("Tracking number"), _("at most {limit} characters").format(
            limit=TRACKING_NUMBER_MAX), example)
    if not _TRACKING_RE.fullmatch(value):
        raise RuleError(N_("Tracking number"), _("letters, digits, spaces and '-' only"),
                        example)
    return value


@dataclass(frozen=True, slots=True)
class CarrierFormat:
    """A carrier's tracking numbers: their well-known ``pattern`` (compared without spaces and
    '-', upper-case), an ``example``, and the public page that tracks one (``{number}``)."""

    code: str
    pattern: re.Pattern[str]
    example: str
    tracking_url: str


@functools.cache
def carrier_formats() -> dict[str, CarrierFormat]:
    """``resources/carrier_tracking.csv`` by carrier code (read once)."""
    with paths.resource("carrier_tracking.csv").open(encoding="utf-8", newline="") as handle:
        return {
            row["code"].strip().upper(): CarrierFormat(
                row["code"].strip(),
                re.compile(row["number_pattern"].strip(), re.ASCII),
                row["example"].strip(),
                row["tracking_url"].strip(),
            )
            for row in csv.DictReader(handle)
            if row.get("code")
        }


def compact_tracking_number(text: str) -> str:
    """The number as carriers print it apart from grouping: no spaces or '-', upper-case."""
    return re.sub(r"[\s\-]", "", text).upper()


def check_tracking_number_for(carrier_code: str | None, text: str | None) -> str:
    """:func:`check_tracking_number`, then the carrier's own format where it is known (USPS,
    UPS, FedEx, DHL, Deutsche Post, Royal Mail, La Poste/Colissimo, Japan Post, Yamato,
    Sagawa); other carriers keep the generic rule."""
    value = check_tracking_number(text)
    known = carrier_formats().get((carrier_code or "").strip().upper())
    if known is not None and not known.pattern.fullmatch(compact_tracking_number(value)):
        carrier = find_carrier(known.code)
        name = carrier.name if carrier else known.code
        raise RuleError(N_("Tracking number"),
                        _("does not look like a {carrier} tracking number").format(carrier=name),
                        known.example)
    return value


def tracking_url(carrier_code: str | None, number: str | None) -> str | None:
    """The carrier's public tracking page for this number, or None where it has none known."""
    known = carrier_formats().get((carrier_code or "").strip().upper())
    if known is None or not number:
        return None
    return known.tracking_url.replace("{number}", quote(compact_tracking_number(number), safe=""))


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
    return [carrier for _rank, _index, carrier in ranked[:limit]]


def check_carrier(code: str | None) -> Carrier:
    """The carrier for ``code``; refuses unknown codes, suggesting close ones when it can."""
    text = (code or "").strip()
    if not text:
        raise RuleError(N_("Carrier"), _("is required: a carrier code from Amazon's list"), "UPS")
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
        rule = _("{code} is not a carrier code Amazon accepts; did you mean {suggestions}?")
        rule = rule.format(code=repr(text), suggestions=named)
        example = suggestions[0]
    else:
        rule = _("{code} is not a carrier code Amazon accepts; search the list by name")
        rule = rule.format(code=repr(text))
        example = "UPS"
    raise RuleError(N_("Carrier"), rule, example, suggestions=tuple(suggestions))


# --------------------------------------------------------------------------- IDs


class IdKind(enum.StrEnum):
    """The kinds of Amazon Pay ID an operator pastes, by their documented forms."""

    CHECKOUT_SESSION = "checkoutSession"
    CHARGE_PERMISSION = "chargePermission"
    CHARGE = "charge"
    REFUND = "refund"


_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# S sandbox, P production, C recurring and saved-wallet permissions (REFERENCE "Corrections")
_PERMISSION = r"[SPCspc][0-9]{2}-[0-9]{7}-[0-9]{7}"
_ID_PATTERNS: dict[IdKind, re.Pattern[str]] = {
    IdKind.CHECKOUT_SESSION: re.compile(_UUID, re.ASCII),
    IdKind.CHARGE_PERMISSION: re.compile(_PERMISSION, re.ASCII),
    IdKind.CHARGE: re.compile(_PERMISSION + r"-[Cc][0-9]{6}", re.ASCII),
    IdKind.REFUND: re.compile(_PERMISSION + r"-[Rr][0-9]{6}", re.ASCII),
}
_ID_EXAMPLES: dict[IdKind, tuple[str, str]] = {
    IdKind.CHECKOUT_SESSION: (N_("Checkout session ID"), "bd504926-f659-4ad7-a1a9-9a747aaf5275"),
    IdKind.CHARGE_PERMISSION: (N_("Charge permission ID"), "S01-1234567-1234567"),
    IdKind.CHARGE: (N_("Charge ID"), "S01-1234567-1234567-C123456"),
    IdKind.REFUND: (N_("Refund ID"), "S01-1234567-1234567-R123456"),
}
# The same names inside a sentence ("this is a charge ID, not a refund ID"): lower case in
# English, as each language writes a noun in the middle of a sentence.
_ID_IN_SENTENCE: dict[IdKind, str] = {
    IdKind.CHECKOUT_SESSION: N_("checkout session ID"),
    IdKind.CHARGE_PERMISSION: N_("charge permission ID"),
    IdKind.CHARGE: N_("charge ID"),
    IdKind.REFUND: N_("refund ID"),
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


def check_id(text: str | None, kind: IdKind) -> str:
    """``text`` trimmed and normalised if it is an ID of ``kind``; a :class:`RuleError` otherwise."""
    field, example = _ID_EXAMPLES[kind]
    value = (text or "").strip()
    found = classify_id(value)
    if found is kind:
        return _normalise_id(kind, value)
    if not value:
        raise RuleError(field, _("is required"), example)
    if found is not None:
        rule = _("this is a {found}, not a {expected}").format(
            found=_(_ID_IN_SENTENCE[found]), expected=_(_ID_IN_SENTENCE[kind]))
        raise RuleError(field, rule, example)
    raise RuleError(field, _("must look like {example}").format(example=example), example)


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
    raise RuleError(field, _("needs a charge permission, charge or refund ID"), example)


def find_ids(text: str) -> list[tuple[IdKind, str]]:
    """Every ID found anywhere in ``text`` (an export, pasted lines), normalised, de-duplicated,
    in order of first appearance."""
    seen: dict[str, IdKind] = {}
    for match in _FIND_IDS_RE.finditer(text):
        kind = IdKind(match.lastgroup or "")  # one named group always matches
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
            N_("Public key ID"), _("is required (Seller Central shows it beside the key)"),
            example,
        )
    if not PUBLIC_KEY_ID_RE.fullmatch(value):
        raise RuleError(N_("Public key ID"),
                        _("letters, digits, '-' and '_' only, at most 100"), example)
    return value
