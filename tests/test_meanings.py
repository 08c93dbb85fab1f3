"""The plain-language meaning of every state, reason code and error code Amazon documents."""

from __future__ import annotations

import pytest

from merchant_desk import meanings
from merchant_desk.meanings import ObjectKind

#: REFERENCE section 4, as written there: kind -> state -> reasons.
REFERENCE_STATES: dict[ObjectKind, dict[str, list[str]]] = {
    ObjectKind.CHECKOUT_SESSION: {
        "Open": [],
        "Completed": [],
        "Canceled": ["BuyerCanceled", "Expired", "AmazonCanceled", "Declined"],
    },
    ObjectKind.CHARGE_PERMISSION: {
        "Chargeable": [],
        "NonChargeable": [
            "PaymentMethodInvalid",
            "PaymentMethodDeleted",
            "BillingAddressDeleted",
            "PaymentMethodExpired",
            "PaymentMethodNotAllowed",
            "PaymentMethodNotSet",
            "ChargeInProgress",
            "MFAFailed",
        ],
        "Closed": [
            "MerchantClosed",
            "BuyerClosed",
            "AmazonCanceled",
            "AmazonClosed",
            "Expired",
            "MerchantCanceled",
            "BuyerCanceled",
        ],
    },
    ObjectKind.CHARGE: {
        "AuthorizationInitiated": [],
        "Authorized": [],
        "CaptureInitiated": [],
        "Captured": [],
        "Declined": [
            "SoftDeclined",
            "HardDeclined",
            "AmazonRejected",
            "ProcessingFailure",
            "TransactionTimedOut",
        ],
        "Canceled": [
            "ExpiredUnused",
            "AmazonCanceled",
            "MerchantCanceled",
            "ChargePermissionCanceled",
            "BuyerCanceled",
        ],
    },
    ObjectKind.REFUND: {
        "RefundInitiated": [],
        "Refunded": [],
        "Declined": ["AmazonRejected", "ProcessingFailure"],
    },
}

REFERENCE_ERRORS = [
    "InvalidParameterValue",
    "InvalidRequest",
    "InvalidRequestFormat",
    "MissingHeader",
    "MissingParameterValue",
    "InvalidHeaderValue",
    "UnrecognizedField",
    "DuplicateIdempotencyKey",
    "CurrencyMismatch",
    "TransactionAmountExceeded",
    "CheckoutSessionCanceled",
    "InvalidSandboxSimulationSpecified",
    "UnauthorizedAccess",
    "InvalidRequestSignature",
    "InvalidAccountStatus",
    "ResourceNotFound",
    "UnsupportedOperation",
    "AmountMismatch",
    "InvalidCheckoutSessionStatus",
    "InvalidChargePermissionStatus",
    "InvalidChargeStatus",
    "ChargePermissionNotModifiable",
    "SoftDeclined",
    "HardDeclined",
    "AmazonRejected",
    "TransactionCountExceeded",
    "TransactionTimedOut",
    "MFANotCompleted",
    "PaymentMethodNotAllowed",
    "TooManyRequests",
    "InternalServerError",
    "ProcessingFailure",
    "ServiceUnavailable",
]

FINAL = {
    (ObjectKind.CHECKOUT_SESSION, "Completed"),
    (ObjectKind.CHECKOUT_SESSION, "Canceled"),
    (ObjectKind.CHARGE_PERMISSION, "Closed"),
    (ObjectKind.CHARGE, "Captured"),
    (ObjectKind.CHARGE, "Declined"),
    (ObjectKind.CHARGE, "Canceled"),
    (ObjectKind.REFUND, "Refunded"),
    (ObjectKind.REFUND, "Declined"),
}

STATE_CASES = [
    (kind, state, reason)
    for kind, states in REFERENCE_STATES.items()
    for state, reasons in states.items()
    for reason in [None, *reasons]
]


def test_every_reference_state_and_reason_has_its_own_meaning():
    assert {(k, s) for k, s, _ in STATE_CASES} == set(meanings.KNOWN_STATES)
    assert {(k, s, r) for k, s, r in STATE_CASES if r} == set(meanings.KNOWN_REASONS)
    assert set(REFERENCE_ERRORS) == set(meanings.ERROR_REASON_CODES)


@pytest.mark.parametrize(("kind", "state", "reason"), STATE_CASES)
def test_explain_every_state_and_reason(kind, state, reason):
    explanation = meanings.explain(kind, state, reason)
    assert explanation.title and explanation.meaning and explanation.next_step
    assert explanation.final is ((kind, state) in FINAL)
    assert meanings.is_final(kind, state) is explanation.final
    assert "Merchant Desk does not know" not in explanation.meaning
    if reason:
        # the reason adds its own words to the state's meaning
        assert explanation.meaning != meanings.explain(kind, state).meaning


@pytest.mark.parametrize("reason", ["BuyerCanceled", "Expired", "AmazonCanceled", "Declined", None])
def test_canceled_checkout_follows_the_starting_pages_guidance(reason):
    explanation = meanings.explain("CheckoutSession", "Canceled", reason)
    assert "Your payment was not successful. Please try another payment method." in (
        explanation.next_step
    )
    assert "new checkout session" in explanation.next_step
    assert explanation.final


def test_soft_and_hard_declines_say_different_things():
    soft = meanings.explain(ObjectKind.CHARGE, "Declined", "SoftDeclined")
    hard = meanings.explain(ObjectKind.CHARGE, "Declined", "HardDeclined")
    assert "retry may work" in soft.meaning
    assert "change their payment method" in hard.next_step


@pytest.mark.parametrize(
    ("kind", "state", "reason"),
    [
        ("Charge", "Teleported", None),
        ("Charge", "Teleported", "Aliens"),
        ("Charge", "Captured", "SomethingNew"),
        ("Subscription", "Active", None),
        ("Charge", None, None),
        ("Charge", "", ""),
    ],
)
def test_unknown_states_and_reasons_get_a_generic_meaning(kind, state, reason):
    explanation = meanings.explain(kind, state, reason)
    assert explanation.title and explanation.meaning and explanation.next_step
    if reason and state == "Captured":
        assert reason in explanation.meaning
        assert explanation.final  # the state is known even if the reason is not
    else:
        assert not explanation.final
        assert not meanings.is_final(kind, state)


def test_object_kinds_are_matched_loosely():
    assert meanings.explain("charge_permission", "Closed") == meanings.explain(
        ObjectKind.CHARGE_PERMISSION, "Closed"
    )
    assert meanings.is_final("checkoutsession", "Canceled")


@pytest.mark.parametrize("code", REFERENCE_ERRORS)
def test_explain_every_error_shows_amazons_code_and_message(code):
    explanation = meanings.explain_error(code, "Amazon's own words.")
    assert code in explanation.title
    assert "Amazon's own words." in explanation.meaning
    assert explanation.next_step
    assert "Merchant Desk does not know" not in explanation.meaning


@pytest.mark.parametrize(
    ("code", "retry_may_help", "words"),
    [
        ("TooManyRequests", True, "Wait"),
        ("ServiceUnavailable", True, "try again"),
        ("SoftDeclined", True, "Try again"),
        ("HardDeclined", False, "change their payment method"),
        ("InvalidRequestSignature", False, "clock"),
        ("TransactionAmountExceeded", False, "amount still available"),
        ("ResourceNotFound", False, "environment"),
    ],
)
def test_error_next_steps(code, retry_may_help, words):
    explanation = meanings.explain_error(code, None)
    assert explanation.final is not retry_may_help
    assert words in explanation.next_step


def test_invalid_request_signature_points_at_key_id_and_private_key():
    step = meanings.explain_error("InvalidRequestSignature", "bad").next_step
    assert "public key ID" in step and "private key" in step and "clock" in step


@pytest.mark.parametrize("code", ["NewThing", "", None])
def test_unknown_errors_get_a_generic_meaning(code):
    explanation = meanings.explain_error(code, "Something odd.")
    assert "Something odd." in explanation.meaning
    assert explanation.next_step
    if code:
        assert code in explanation.title


# --------------------------------------------------------------------------- in every language

from merchant_desk import i18n  # noqa: E402

TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.SOURCE_LANGUAGE]


def every_explanation() -> list[tuple[str, meanings.Explanation]]:
    """Every state, reason and error, explained in the active language, named by its codes."""
    out = []
    for kind, states in REFERENCE_STATES.items():
        for state, reasons in states.items():
            out.append((f"{kind}/{state}", meanings.explain(kind, state)))
            for reason in reasons:
                out.append((f"{kind}/{state}/{reason}", meanings.explain(kind, state, reason)))
    for code in sorted(meanings.ERROR_REASON_CODES):
        out.append((code, meanings.explain_error(code, "Amazon's own words.")))
    out.append(("unknown", meanings.explain(ObjectKind.CHARGE, "Frozen", "Glacier")))
    out.append(("unknown error", meanings.explain_error("SomethingNew")))
    return out


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_meaning_and_next_step_is_said_in_every_language(language):
    english = every_explanation()
    with i18n.language(language):
        translated = every_explanation()
    for (name, source), (_, words) in zip(english, translated, strict=True):
        assert words.final == source.final, name
        assert words.meaning != source.meaning, f"{language} {name}: meaning in English"
        assert words.next_step != source.next_step, f"{language} {name}: next step in English"
        if name != "unknown":  # an unknown state's title is Amazon's own word
            assert words.title != source.title, f"{language} {name}: title in English"


@pytest.mark.parametrize("language", TRANSLATED)
def test_amazons_codes_and_words_stay_as_amazon_writes_them(language):
    with i18n.language(language):
        for code in meanings.ERROR_REASON_CODES:
            explained = meanings.explain_error(code, "Charge is in Captured state.")
            assert code in explained.title
            assert explained.meaning.endswith("Charge is in Captured state.")
        unknown = meanings.explain("Refund", "Frozen", "Glacier")
    assert unknown.title == "Frozen"
    assert "Frozen" in unknown.meaning and "Glacier" in unknown.meaning
