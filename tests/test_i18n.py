"""Which language Merchant Desk speaks, the core's words in it, its dates, and a --json output
that stays the same in every language."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from babel.messages.pofile import read_po

from merchant_desk import cli, i18n, meanings, rules
from merchant_desk.desk import explain_row
from merchant_desk.desk.wording import timeline_item
from merchant_desk.meanings import ObjectKind
from merchant_desk.money import Money, MoneyError
from merchant_desk.money_locale import parse_typed
from merchant_desk.store import OrderRow, TimelineEntry


@pytest.fixture(autouse=True)
def english_afterwards():
    """Every test leaves the process speaking English, as it found it."""
    yield
    i18n.set_language("en")


def catalog(language: str) -> dict[str, str]:
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and isinstance(m.id, str)}


# --------------------------------------------------------------------------- choosing


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("it", "it"),
        ("it_IT.UTF-8", "it_IT"),
        ("de_DE@euro", "de_DE"),
        ("de-CH", "de_CH"),
        ("fr_CH", "fr_CH"),
        ("en-GB", "en_GB"),
        ("en_US", "en_US"),
        ("ja-JP", "ja_JP"),
        ("ja-Jpan-JP", "ja_JP"),
        ("ES", "es"),
        ("it_XX", "it"),  # a territory CLDR does not know: the language alone
        ("pt_BR", None),
        ("zh-Hant-TW", None),
        ("C", None),
        ("", None),
        (None, None),
        ("it_IT; rm -rf", None),
    ],
)
def test_a_tag_becomes_a_locale_merchant_desk_speaks_or_none(tag, expected):
    assert i18n.normalize(tag) == expected


def test_the_language_option_wins_then_the_variable_then_the_system_then_english():
    env = {"MERCHANT_DESK_LANGUAGE": "de", "LANG": "fr_FR.UTF-8"}
    assert i18n.choose_language("ja", env, ["es-ES"]) == "ja"
    assert i18n.choose_language(None, env, ["es-ES"]) == "de"
    assert i18n.choose_language(None, {"LANG": "fr_FR.UTF-8"}, ["es-ES"]) == "es_ES"
    assert i18n.choose_language(None, {"LANG": "fr_FR.UTF-8"}) == "fr_FR"
    assert i18n.choose_language(None, {}) == "en"
    assert i18n.choose_language("  ", {"MERCHANT_DESK_LANGUAGE": ""}, ()) == "en"


def test_the_systems_first_spoken_language_is_chosen_and_the_others_passed_over():
    # Qt's uiLanguages() as macOS reports it: Portuguese first, which Merchant Desk does not speak
    assert i18n.choose_language(None, {}, ["pt-BR", "it-IT", "en-US"]) == "it_IT"
    # gettext's own order: LANGUAGE (a list), LC_ALL, LC_MESSAGES, LANG; C and POSIX name none
    env = {"LANGUAGE": "pt_BR:ja", "LC_ALL": "C", "LC_MESSAGES": "de_DE.UTF-8", "LANG": "fr_FR"}
    assert i18n.posix_languages(env) == ["pt_BR", "ja", "de_DE.UTF-8", "fr_FR"]
    assert i18n.choose_language(None, env) == "ja"
    assert i18n.choose_language(None, {"LANG": "C.UTF-8"}) == "en"


@pytest.mark.parametrize("source", ["option", "variable"])
def test_a_language_asked_for_by_name_that_is_not_spoken_is_refused_not_ignored(source):
    requested, env = ("pt", {}) if source == "option" else (None, {"MERCHANT_DESK_LANGUAGE": "pt"})
    with pytest.raises(i18n.LanguageError, match=r"does not speak \"pt\"; use one of en, it"):
        i18n.choose_language(requested, env)


def test_the_refusal_is_said_in_the_active_language():
    i18n.set_language("it")
    with pytest.raises(i18n.LanguageError, match="non parla «klingon»"):
        i18n.choose_language("klingon", {})
    with pytest.raises(i18n.LanguageError, match="non parla «pt»"):
        i18n.set_language("pt")


# --------------------------------------------------------------------------- switching


def test_english_until_a_language_is_set_then_that_language():
    assert i18n.current_locale() == "en"
    assert i18n._("Payment declined") == "Payment declined"
    assert i18n.set_language("it_IT.UTF-8") == "it_IT"
    assert (i18n.current_locale(), i18n.current_language()) == ("it_IT", "it")
    assert i18n._("Payment declined") == "Pagamento rifiutato"
    assert i18n._("a text no catalog has") == "a text no catalog has"
    i18n.set_language("ja")
    assert i18n._("Payment declined") == "支払い拒否"


def test_a_block_can_speak_another_language_and_then_the_one_before():
    i18n.set_language("de")
    with i18n.language("fr") as chosen:
        assert chosen == "fr"
        assert i18n._("Refunded") == "Remboursé"
    assert i18n.current_locale() == "de" and i18n._("Refunded") == "Erstattet"


def test_a_missing_catalog_leaves_the_words_in_english_and_money_in_the_locale(
    monkeypatch, tmp_path, caplog
):
    from merchant_desk.money_locale import format_money

    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    assert i18n.set_language("it") == "it"
    assert i18n._("Payment declined") == "Payment declined"
    assert format_money(Money.of("14.00", "EUR")) == "14,00\u00a0€"
    assert "No it catalog" in caplog.text


def test_ngettext_follows_each_languages_plural_rule():
    assert i18n.ngettext("{n} order", "{n} orders", 1) == "{n} order"
    assert i18n.ngettext("{n} order", "{n} orders", 0) == "{n} orders"
    i18n.set_language("fr")  # French counts 0 as one
    assert i18n.ngettext("{n} order", "{n} orders", 0) == "{n} commande"
    assert i18n.ngettext("{n} order", "{n} orders", 2) == "{n} commandes"


# --------------------------------------------------------------------------- the core's words


def test_the_meaning_of_a_state_comes_out_in_italian_and_japanese():
    english = meanings.explain(ObjectKind.CHARGE, "Declined", "SoftDeclined")
    it, ja = catalog("it"), catalog("ja")
    with i18n.language("it"):
        italian = meanings.explain(ObjectKind.CHARGE, "Declined", "SoftDeclined")
    with i18n.language("ja"):
        japanese = meanings.explain(ObjectKind.CHARGE, "Declined", "SoftDeclined")
    assert italian.title == it["Payment declined"] == "Pagamento rifiutato"
    assert italian.meaning == (
        it["Amazon could not take or reserve the money for this charge."] + " "
        + it["The payment was declined this time, but a retry may work."]
    )
    assert italian.next_step == it[english.next_step]
    assert japanese.title == ja["Payment declined"]
    # Japanese writes two sentences with no space between them
    assert japanese.meaning == (
        ja["Amazon could not take or reserve the money for this charge."]
        + ja["The payment was declined this time, but a retry may work."]
    )
    assert italian.final == japanese.final == english.final


def test_an_errors_title_keeps_amazons_code_and_its_message_in_every_language():
    with i18n.language("it"):
        error = meanings.explain_error("InvalidChargeStatus", "Charge is in Captured state.")
    assert error.title == "Addebito nello stato sbagliato (InvalidChargeStatus)"
    assert error.meaning.endswith("Amazon ha risposto (InvalidChargeStatus): Charge is in "
                                  "Captured state.")
    with i18n.language("ja"):
        unknown = meanings.explain(ObjectKind.CHARGE, "Frozen", "Glacier")
    assert unknown.title == "Frozen"
    assert "「Frozen」" in unknown.meaning and "「Glacier」" in unknown.meaning
    assert "Charge" in unknown.meaning


def test_a_refused_input_says_its_field_rule_and_example_in_the_language():
    with i18n.language("it"), pytest.raises(rules.RuleError) as caught:
        rules.parse_amount("1.500", "EUR", i18n.current_locale())
    assert caught.value.field == "Amount"  # stable for code
    assert caught.value.label == "Importo"
    assert str(caught.value) == (
        "Importo: «1.500» si può leggere come 1500 o come 1,5: scrivilo senza separatore delle "
        "migliaia, con «,» prima dei decimali (es. 14,00)"
    )
    with i18n.language("ja"), pytest.raises(rules.RuleError) as caught:
        rules.check_charge_id("S01-1234567-1234567")
    assert str(caught.value) == (
        "チャージID: これはチャージパーミッションIDで、チャージIDではありません"
        "（例: S01-1234567-1234567-C123456）"
    )
    with i18n.language("de"), pytest.raises(rules.RuleError) as caught:
        rules.parse_amount("150.000,01", "EUR", "de")
    assert str(caught.value) == "Betrag: höchstens 150.000,00 EUR pro Abbuchung (z. B. 14,00)"


def test_amounts_in_a_refusal_are_the_locales_and_the_example_is_what_to_type():
    with i18n.language("de"), pytest.raises(rules.RuleError) as caught:
        rules.check_capture_amount("1300", "EUR", Money.of("1234.50", "EUR"), locale="de")
    assert str(caught.value) == (
        "Betrag: höchstens 1.234,50 EUR, so viel ist auf der Abbuchung noch autorisiert "
        "(z. B. 1234,50)"
    )
    with pytest.raises(rules.RuleError) as caught:  # without a locale: as before, for scripts
        rules.check_capture_amount("1300", "EUR", Money.of("1234.50", "EUR"))
    assert str(caught.value) == (
        "Amount: at most 1234.50 EUR, what the charge still has authorized (e.g. 1234.50)"
    )


def test_money_refusals_are_said_in_the_active_language():
    with i18n.language("fr"), pytest.raises(MoneyError, match="pas de décimales pour JPY"):
        parse_typed("1,5", "JPY", "fr")
    with i18n.language("es"), pytest.raises(MoneyError, match="sin signo"):
        Money.parse_text("-3", "EUR")


def unverified_row() -> OrderRow:
    fields = {name: None for name in OrderRow.__dataclass_fields__}
    fields.update(order_id="S01-1234567-1234567", state="", gone=False, needs_refresh=True,
                  first_seen_at=datetime(2026, 12, 4, tzinfo=UTC))
    return OrderRow(**fields)


def test_the_desks_words_come_out_in_the_language():
    with i18n.language("it"):
        assert explain_row(unverified_row()).title == "Non ancora verificato"
        entry = TimelineEntry(datetime(2026, 12, 4, tzinfo=UTC), "intent", "captureCharge",
                              "S01-1-2-C3", None,
                              {"request": {"captureAmount": {"amount": "1234.50",
                                                             "currencyCode": "EUR"}}})
        assert timeline_item(entry).text == "Acquisizione inviata (1.234,50 EUR)"
        outcome = TimelineEntry(datetime(2026, 12, 4, tzinfo=UTC), "outcome", "captureCharge",
                                "S01-1-2-C3", "refused", {"reasonCode": "InvalidChargeStatus"})
        assert timeline_item(outcome).text == (
            "Acquisizione: rifiutata da Amazon (codice Amazon: InvalidChargeStatus)")


# --------------------------------------------------------------------------- dates


def test_dates_and_times_are_written_the_locales_way(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    moment = datetime(2026, 12, 4, 14, 5, 9, tzinfo=UTC)
    assert i18n.format_datetime(moment, "it") == "4 dic 2026, 14:05:09"
    assert i18n.format_datetime(moment, "de") == "04.12.2026, 14:05:09"
    assert i18n.format_datetime(moment, "ja") == "2026/12/04 14:05:09"
    assert i18n.format_datetime(moment.replace(tzinfo=None), "en_GB") == "4 Dec 2026, 14:05:09"
    assert i18n.format_date(date(2026, 12, 4), "fr") == "4 déc. 2026"
    with i18n.language("es"):
        assert i18n.format_date(date(2026, 12, 4)) == "4 dic 2026"


# --------------------------------------------------------------------------- --json


def test_json_output_is_the_same_in_every_language(emulator, tmp_path, private_pem, capsys,
                                                    private_data_dir, monkeypatch):
    """Keys and values are Amazon's (field names, states, reason codes), whatever the
    language; the words for people go to stderr."""
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(private_pem)
    authorized = emulator.create_session("1234.50", payment_intent="Authorize")
    canceled = emulator.create_session("14.00", payment_intent="Authorize",
                                       outcome="BuyerCanceled")
    ids = [authorized["checkoutSessionId"], canceled["checkoutSessionId"]]

    def run(*args: str) -> list[dict]:
        code = cli.main(["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                         "--private-key-file", str(key_file), *args])
        assert code == 0
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    def without_request_ids(lines: list[dict]) -> list[dict]:
        return [{k: v for k, v in line.items() if k != "requestId"} for line in lines]

    english = (without_request_ids(run("verify", *ids, "--json")), run("sessions", "--json"))
    monkeypatch.setenv("MERCHANT_DESK_LANGUAGE", "it")
    monkeypatch.setenv("LANG", "it_IT.UTF-8")
    with i18n.language("it"):
        italian = (without_request_ids(run("verify", *ids, "--json")), run("sessions", "--json"))
    assert italian == english
    verified = english[0]
    assert {line["state"] for line in verified} == {"Completed", "Canceled"}
    assert verified[0]["chargeAmount"] == {"amount": "1234.50", "currencyCode": "USD"}
    words = set(catalog("it").values()) | set(catalog("ja").values())

    def strings(value: object) -> list[str]:
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return [value] if isinstance(value, str) else []

    assert not words & set(strings(italian))


def test_importing_the_core_loads_no_babel_until_an_amount_or_date_is_shown():
    """The window's first paint pays for CLDR's data only when it writes money or dates."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import merchant_desk.desk, merchant_desk.rules, merchant_desk.money\n"
        "import merchant_desk.meanings, merchant_desk.i18n\n"
        "merchant_desk.i18n.set_language('it')\n"
        "merchant_desk.meanings.explain('Charge', 'Declined', 'SoftDeclined')\n"
        "print(sorted(m for m in sys.modules if m == 'babel' or m.startswith('babel.')\n"
        "             and m != 'babel.localedata'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


#: The CLDR data the bundle carries (packaging keeps only these of Babel's 1,100 files).
def bundled_cldr(name: str) -> bool:
    return name == "root" or name.split("_")[0] in i18n.LANGUAGES


def test_money_dates_and_input_need_only_the_cldr_data_of_the_languages_spoken(monkeypatch):
    from babel import localedata

    from merchant_desk.money_locale import format_money

    loaded: list[str] = []
    real_load = localedata.load

    def recording_load(name, merge_inherited=True):
        loaded.append(name)
        return real_load(name, merge_inherited)

    monkeypatch.setattr(localedata, "_cache", {})
    monkeypatch.setattr(localedata, "load", recording_load)
    moment = datetime(2026, 12, 4, 14, 5, 9, tzinfo=UTC)
    for tag in ["en", "en_US", "en_GB", "it_IT", "it_CH", "de_DE", "de_AT", "de_CH", "fr_FR",
                "fr_BE", "fr_CH", "es_ES", "es_MX", "ja_JP"]:
        locale = i18n.set_language(tag)
        for code in ("EUR", "GBP", "USD", "JPY", "CHF", "AUD"):
            money = Money.of("1500", code)
            assert parse_typed(format_money(money), code, locale) == money
        i18n.format_datetime(moment)
        i18n.format_date(moment.date())
    assert loaded
    assert all(bundled_cldr(name) for name in loaded), sorted(set(loaded))


def test_a_windows_action_is_a_verb_where_the_operations_name_is_a_noun():
    from merchant_desk.ui.money_actions import CLOSE, REFUND, action_words

    i18n.set_language("it")
    try:
        assert action_words(REFUND) == "Rimborsa"  # the button
        assert i18n._("Refund") == "Richiesta di rimborso"  # "{operation} sent", the title
        assert action_words(CLOSE) == "Chiudi ordine"
        i18n.set_language("de")
        assert i18n.pgettext("action", "Capture") == "Einziehen"
    finally:
        i18n.set_language(i18n.SOURCE_LANGUAGE)
    assert action_words(REFUND) == "Refund"  # English: one word for both
