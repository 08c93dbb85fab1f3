"""The command line in the operator's language, over loopback against the emulator: words,
amounts and dates the language's way, amounts typed the language's way and never guessed,
Amazon's "14.00" on the wire, and ``--json`` the same in every language."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from babel.messages.pofile import read_po

from merchant_desk import cli, i18n
from merchant_desk.desk import Lifecycle
from tests.lifecycle_helpers import business_follow


@pytest.fixture
def md(emulator, key_file, monkeypatch):
    """``merchant-desk`` in-process on the emulator; following runs on its business clock."""
    monkeypatch.setattr(Lifecycle, "follow_policy", business_follow(emulator))

    def run(*args: str) -> int:
        return cli.main(["--endpoint", emulator.base_url, "--public-key-id", emulator.key_id,
                         "--private-key-file", str(key_file), *args])

    return run


def catalog_words(*languages: str) -> set[str]:
    words: set[str] = set()
    for language in languages:
        path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
        with path.open("rb") as handle:
            words |= {m.string for m in read_po(handle) if m.id and isinstance(m.string, str)}
    return words


def moves(emulator) -> tuple[int, ...]:
    ledger = emulator.ledger()
    return tuple(len(ledger[k]) for k in ("charges", "captures", "refunds", "cancellations",
                                           "closures"))


# --------------------------------------------------------------------------- choosing


def test_the_language_option_speaks_italian_and_an_unknown_one_is_refused(md, capsys):
    assert md("--language", "it", "show", "nonsense") == 2
    assert capsys.readouterr().err == (
        "'nonsense' non è un ID di Amazon Pay: indica l'ID della sessione di pagamento, "
        "dell'autorizzazione all'addebito, dell'addebito o del rimborso dell'ordine "
        "(es. S01-1234567-1234567).\nNon è stato inviato nulla.\n"
    )
    assert md("--language", "klingon", "sessions") == 2
    assert capsys.readouterr().err == (
        '--language: Merchant Desk does not speak "klingon"; use one of en, it, de, fr, es, ja\n')


def test_the_variable_and_the_system_choose_too_and_the_help_is_in_that_language(
    md, capsys, monkeypatch
):
    monkeypatch.setenv("MERCHANT_DESK_LANGUAGE", "de")
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--help"])
    assert stopped.value.code == 0
    assert "Amazon Pay-Bestellungen prüfen, einziehen und versenden." in capsys.readouterr().out
    monkeypatch.delenv("MERCHANT_DESK_LANGUAGE")
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert md("show", "nonsense") == 2
    assert capsys.readouterr().err.endswith("Rien n'a été envoyé.\n")


def test_the_window_keeps_english_unless_a_language_is_asked_for(monkeypatch):
    """Its own words are not translated yet: the system's language is passed on, not spoken."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(cli, "_gui", lambda args: seen.append(
        (i18n.current_locale(), args.locale)) or 0)
    monkeypatch.setenv("LANG", "it_IT.UTF-8")
    assert cli.main(["gui", "--demo"]) == 0
    assert cli.main([]) == 0
    assert cli.main(["--language", "ja", "gui"]) == 0
    monkeypatch.setenv("MERCHANT_DESK_LANGUAGE", "de")
    assert cli.main(["--data-dir", "gui", "gui"]) == 0
    assert seen == [("en", "it_IT"), ("en", "it_IT"), ("ja", "ja"), ("de", "de")]


@pytest.mark.parametrize(("argv", "window"), [
    ([], True), (["gui"], True), (["--data-dir", "sessions", "gui"], True),
    (["--data-dir", "gui", "sessions"], False), (["--language=it", "verify", "X"], False),
    (["--help"], False), (["sandbox", "serve"], False),
])
def test_which_arguments_open_the_window(argv, window):
    assert cli._opens_window(argv) is window


# --------------------------------------------------------------------------- amounts


def test_an_italian_capture_of_14_comma_00_sends_14_point_00(emulator, md, capsys):
    s = emulator.create_session("240.00", payment_intent="Authorize", currency_code="EUR")
    cid = s["chargeId"]
    assert md("--language", "it", "capture", cid, "--amount", "14,00") == 0
    out = capsys.readouterr().out
    assert [c["amount"] for c in emulator.ledger()["captures"]] == ["14.00"]
    assert out == (f"Addebito {cid}: Captured. Acquisiti 14,00 EUR; l'estratto conto "
                   "dell'acquirente mostra (nessuna).\n")
    assert md("--language", "it", "refund", cid, "--amount", "2,50") == 0
    assert capsys.readouterr().out.startswith("Rimborso ")
    assert [r["amount"] for r in emulator.ledger()["refunds"]] == ["2.50"]
    assert md("--language", "de", "show", cid) == 0
    shown = capsys.readouterr().out
    assert "Abbuchung " + cid + ": Captured, autorisiert 240,00 EUR, eingezogen 14,00 EUR" in shown
    assert re.search(r"Erstattbar: +11,50 EUR\n", shown)  # 14 - 2.50, and 15 % more on top:
    assert "bis zu 2,10 EUR mehr" in shown
    assert "Nächste Frist: " in shown


@pytest.mark.parametrize(("command", "amount"), [
    ("capture", "1.500"), ("capture", "1,500"), ("refund", "1.500"), ("charge", "1,500"),
])
def test_an_amount_that_could_mean_two_things_is_refused_and_nothing_moves(
    emulator, md, capsys, command, amount
):
    s = emulator.create_session("2000.00", payment_intent="AuthorizeWithCapture"
                                if command == "refund" else "Authorize", currency_code="EUR")
    target = s["chargePermissionId"] if command == "charge" else s["chargeId"]
    before = moves(emulator)
    assert md("--language", "it", command, target, "--amount", amount) == 2
    err = capsys.readouterr().err
    assert err == (f"Importo: «{amount}» si può leggere come 1500 o come 1,5: scrivilo senza "
                   "separatore delle migliaia, con «,» prima dei decimali (es. 14,00)\n"
                   "Non è stato inviato nulla.\n")
    assert moves(emulator) == before


def test_with_the_currency_given_a_refusal_sends_not_even_a_read(emulator, md, capsys):
    s = emulator.create_session("20.00", payment_intent="Authorize", currency_code="EUR")
    requests = emulator.ledger()["requests"]
    assert md("--language", "fr", "capture", s["chargeId"], "--amount", "1.500",
              "--currency", "EUR") == 2
    assert capsys.readouterr().err.startswith("Montant\xa0: «\xa01.500\xa0» peut se lire 1500 ou 1,5")
    assert emulator.ledger()["requests"] == requests


def test_an_amount_typed_the_english_way_is_read_in_every_language(emulator, md, capsys):
    s = emulator.create_session("30.00", payment_intent="Authorize", currency_code="EUR")
    assert md("--language", "es", "capture", s["chargeId"], "--amount", "14.00") == 0
    assert "14,00 EUR" in capsys.readouterr().out
    assert [c["amount"] for c in emulator.ledger()["captures"]] == ["14.00"]


# --------------------------------------------------------------------------- --json


def _masked(value: Any) -> Any:
    """IDs and times differ between two orders, and so may the order of two charges made in
    the same second; everything else must not."""
    if isinstance(value, dict):
        return {k: "*" if k.endswith(("Id", "Timestamp")) or k in ("deadline", "createdAt", "at")
                else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_masked(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def test_json_is_the_same_in_every_language(emulator, md, capsys):
    """The money commands' --json: Amazon's names and wire-form amounts, whatever was typed."""

    def story(language: str, amounts: tuple[str, str, str]) -> list[Any]:
        s = emulator.create_session("2400.00", payment_intent="Authorize", currency_code="EUR")
        capture, refund, charge = amounts
        lines = []
        for args in (["capture", s["chargeId"], "--amount", capture],
                     ["refund", s["chargeId"], "--amount", refund],
                     ["charge", s["chargePermissionId"], "--amount", charge, "--capture"],
                     ["show", s["chargeId"]], ["pending"], ["sessions", "--limit", "1"]):
            assert md("--language", language, *args, "--json") == 0
            lines.append([json.loads(line) for line in capsys.readouterr().out.splitlines()])
        return lines

    english = story("en", ("14.00", "2.50", "1226.00"))
    assert english[0][0]["captureAmount"] == {"amount": "14.00", "currencyCode": "EUR"}
    words = catalog_words("it", "ja")
    for language, typed in (("it", ("14,00", "2,50", "1226,00")),
                            ("ja", ("14.00", "2.50", "1,226.00")),
                            ("de", ("14", "2,5", "1226"))):
        spoken = story(language, typed)
        assert _masked(spoken) == _masked(english), language
        assert not words & set(re.findall(r'"([^"]*)"', json.dumps(spoken, ensure_ascii=False)))


def test_read_only_json_is_byte_identical_across_languages(emulator, md, capsys):
    s = emulator.create_session("240.00", payment_intent="Authorize", currency_code="EUR")
    assert md("capture", s["chargeId"], "--amount", "14.00") == 0
    capsys.readouterr()
    outputs = {}
    for language in i18n.LANGUAGES:
        text = []
        for args in (["show", s["chargeId"]], ["sessions"], ["pending"], ["audit"]):
            assert md("--language", language, *args, "--json") == 0
            text.append(capsys.readouterr().out)
        outputs[language] = text
    assert all(text == outputs["en"] for text in outputs.values())
    assert '"amount": "14.00"' in outputs["ja"][0]
