"""The catalogs: complete, no fuzzy or empty entry, the same placeholders as the source, the
compiled .mo what its .po says, the template what the code marks, and no operator-facing text
in the core, the command line, the desk or the window left unmarked."""

from __future__ import annotations

import ast
import gettext
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from merchant_desk import i18n

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.SOURCE_LANGUAGE]


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def po_path(language: str) -> Path:
    return i18n.LOCALE_DIR / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def placeholders(text: str) -> set[str]:
    """The named fields of a str.format text; ValueError for braces that are not a format."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


MessageId = str | tuple[str, ...]


def source_ids() -> set[MessageId]:
    """Every entry's id: the text, or (singular, plural) for a count's text (``ngettext``)."""
    return {
        message.id if isinstance(message.id, str) else tuple(message.id)
        for message in read_catalog(TEMPLATE) if message.id
    }


def source_texts() -> set[str]:
    """Every source text, a count's singular and plural each on its own."""
    return {text for msgid in source_ids() for text in ((msgid,) if isinstance(msgid, str)
                                                         else msgid)}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_entry_is_translated_not_fuzzy_and_keeps_its_placeholders(language):
    catalog = read_catalog(po_path(language))
    assert catalog.locale is not None and str(catalog.locale) == language
    assert not catalog.fuzzy, "the header is marked fuzzy"
    entries = {(message.id if isinstance(message.id, str) else tuple(message.id)): message
               for message in catalog if message.id}
    assert set(entries) == source_ids(), "catalog and template differ: run pybabel update"
    problems = []
    for msgid, message in entries.items():
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        # a count's text has one form per plural form of the language (Japanese one, Italian two)
        source = msgid if isinstance(msgid, str) else msgid[-1]
        forms = [message.string] if isinstance(message.string, str) else list(message.string)
        if isinstance(msgid, tuple) and len(forms) != catalog.num_plurals:
            problems.append(f"{len(forms)} forms, not {catalog.num_plurals}: {msgid!r}")
        for form in forms:
            if not form.strip():
                problems.append(f"empty: {msgid!r}")
                continue
            try:
                got = placeholders(form)
            except ValueError as error:
                problems.append(f"broken braces ({error}): {form!r}")
                continue
            if got != placeholders(source):
                problems.append(
                    f"placeholders {sorted(got)} != {sorted(placeholders(source))}: {msgid!r}")
    assert not problems, "\n".join(problems)


def test_placeholders_are_named_never_positional():
    for text in source_texts():
        names = placeholders(text)
        assert "" not in names and not any(name.isdigit() for name in names), text


def test_a_count_has_the_same_placeholders_in_its_singular_and_plural():
    for msgid in source_ids():
        if isinstance(msgid, tuple):
            assert placeholders(msgid[0]) == placeholders(msgid[1]), msgid


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_what_its_po_says(language):
    """The .mo files are committed (a checkout runs without a build step): never stale."""
    catalog = read_catalog(po_path(language))
    mo = po_path(language).with_suffix(".mo")
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    form_of = gettext.c2py(catalog.plural_expr)  # which plural form a count takes
    for message in catalog:
        if not message.id:
            continue
        # an entry not translated yet is left out: gettext gives the English source
        if isinstance(message.id, str):
            found = (compiled.pgettext(message.context, message.id) if message.context
                     else compiled.gettext(message.id))
            assert found == (message.string or message.id), f"{mo} is stale: pybabel compile"
            continue
        singular, plural = message.id[0], message.id[1]
        for n in range(30):
            # a form not translated yet is compiled as the English singular or plural
            form = form_of(n)
            expected = message.string[form] or message.id[min(form, 1)]
            assert compiled.ngettext(singular, plural, n) == expected, (
                f"{mo} is stale: pybabel compile ({plural!r}, {n})")
    assert compiled.info()["language"] == language


def test_the_template_holds_exactly_what_the_code_marks():
    """A text marked with _()/N_()/ngettext() but missing from the catalogs fails here (and so
    does a catalog entry no code uses any more)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")
    marked = {
        message if isinstance(message, str) else tuple(message)
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, directory_filter=lambda path: ".venv" not in path
        )
    }
    assert marked == source_ids(), (
        f"not in the catalogs: {sorted(marked - source_ids())}\n"
        f"no longer used: {sorted(source_ids() - marked)}"
    )


# --------------------------------------------------------------------------- unmarked texts

#: The core's modules whose texts reach the operator.
CORE_TEXT_MODULES = [
    "merchant_desk/meanings.py",
    "merchant_desk/rules.py",
    "merchant_desk/money.py",
    "merchant_desk/money_locale.py",
    "merchant_desk/i18n.py",
    "merchant_desk/status.py",
    "merchant_desk/desk/wording.py",
    # the keyring, the key files and the settings: read in Settings, the passphrase prompt and
    # the start-up errors, and on the command line
    "merchant_desk/secrets.py",
    "merchant_desk/keyfile.py",
    "merchant_desk/settings.py",
    "merchant_desk/paths.py",
    "merchant_desk/demo.py",
]
#: The command line's modules: every line it prints for a person, and its help.
CLI_TEXT_MODULES = [
    "merchant_desk/cli.py",
    "merchant_desk/commands.py",
    "merchant_desk/money_commands.py",
    "merchant_desk/payout_commands.py",
]
#: The desk (every use case's words) and the window (every widget's), module by module; the
#: emulator (merchant_desk/sandbox) stays out: it answers in English, as Amazon does.
DESK_AND_WINDOW_MODULES = sorted(
    str(path.relative_to(ROOT))
    for folder in ("merchant_desk/desk", "merchant_desk/ui")
    for path in (ROOT / folder).rglob("*.py")
)
_MARKERS = {"_", "N_", "ngettext", "pgettext"}
# Programmer errors and logs are for developers, in English.
_DEVELOPER_ERRORS = {"TypeError", "ValueError", "AssertionError", "NotImplementedError",
                     "RuntimeError"}
_LOGGING = {"debug", "info", "warning", "error", "exception"}
# Calls whose texts nobody reads as words: Qt style sheets, date formats, the audit trail's
# event names (stable keys in the journal, like Amazon's codes).
_NOT_WORDS = {"setStyleSheet", "strftime", "audit"}
#: Texts in the desk and the window that stay as they are, each for its reason.
NOT_TRANSLATED: dict[str, set[str]] = {
    "merchant_desk/ui/app.py": {
        "Merchant Desk",  # the product's name
        "%(asctime)s %(levelname)s %(name)s: %(message)s",  # the log file's line format
        # `gui --smoke` lines: read by CI and packaging/smoke.py, not by a shop owner
        "smoke ok: ", " orders, keyring=", "smoke failed: ", " orders listed",
        "smoke failed: could not connect: ", "language: ", ", Qt's Cancel: ",
    },
    # printed on the terminal the window was started from, when it has just been asked to
    # restart itself and could not: a developer's line, like the log's
    "merchant_desk/ui/session.py": {"merchant-desk: could not start again (",
                                    "); start Merchant Desk yourself."},
    # a Literal the code compares, never shown
    "merchant_desk/ui/dialogs/settings.py": {"wrong passphrase"},
    # texts the columns are sized for (their usual widths and floors), never shown
    "merchant_desk/ui/main_window.py": {"◷ Authorized: capture by 30 Dec",
                                        "◷ Authorized: capture by 3 Jan 2027",
                                        "Jonah Whit…", "Jonah Whitfield"},
    "merchant_desk/ui/richtext.py": {"<p style='white-space:pre'>"},  # markup
    # a regular expression: what an amount looks like in any language
    "merchant_desk/ui/detail_panel.py": {
        "\\S*\\d[\\d.,'\\u00a0\\u202f]*\\S*(?:[ \\u00a0\\u202f][A-Z]{3}\\b)?"},
    # the export file's column names: the same in every language, like Amazon's reports
    "merchant_desk/desk/export.py": {"Order reference", "Amazon order reference",
                                     "Transaction ID", "Payout ID", "Payout date"},
    "merchant_desk/desk/lifecycle.py": {
        # the reasons sent to Amazon when the operator gives none (the wire stays English)
        "Canceled by the merchant", "Order finished by the merchant",
        "--capture --descriptor SHOP 42",  # an example of the command line's options
    },
    "merchant_desk/desk/reconcile.py": {"A-to-z Guarantee Claim"},  # Amazon's transaction type
    "merchant_desk/paths.py": {"Application Support"},  # macOS's folder, named in English on disk
}


def _words(text: str) -> bool:
    """A text a person reads: at least two words of letters (capitals only are an example
    value or a code, such as a soft descriptor)."""
    if text.isupper():
        return False
    return len([w for w in text.replace("'", " ").split() if sum(c.isalpha() for c in w) >= 2]) >= 2


def unmarked_texts(path: Path, allowed: frozenset[str] = frozenset()) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if id(node) in docstrings or not _words(node.value) or node.value in allowed:
            continue
        exempt, up, child = False, parents.get(node), node
        while up is not None and not exempt:
            # a text looked for in another ("wrong" in str(error)) is never shown
            exempt = isinstance(up, ast.Compare) and up.left is child
            # f"{moment:%Y-%m-%d %H:%M}": a date's format, not words
            exempt = exempt or (isinstance(up, ast.FormattedValue) and up.format_spec is child)
            # ERROR_STYLE = "color: #9b1c1c;": a Qt style sheet
            exempt = exempt or (isinstance(up, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id.endswith("STYLE")
                for target in up.targets))
            if isinstance(up, ast.Call):
                func = up.func
                name = func.id if isinstance(func, ast.Name) else (
                    func.attr if isinstance(func, ast.Attribute) else "")
                exempt = name in _MARKERS or name in _DEVELOPER_ERRORS or (
                    isinstance(func, ast.Attribute) and name in _LOGGING | _NOT_WORDS)
            up, child = parents.get(up), up
        if not exempt:
            found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    return found


TEXT_MODULES = sorted({*CORE_TEXT_MODULES, *CLI_TEXT_MODULES, *DESK_AND_WINDOW_MODULES})


def test_the_scan_reaches_every_module_of_the_desk_and_the_window():
    assert "merchant_desk/ui/main_window.py" in TEXT_MODULES
    assert "merchant_desk/ui/dialogs/refund.py" in TEXT_MODULES
    assert "merchant_desk/desk/lifecycle.py" in TEXT_MODULES
    assert not any(module.startswith("merchant_desk/sandbox/") for module in TEXT_MODULES)
    assert set(NOT_TRANSLATED) <= set(TEXT_MODULES)


@pytest.mark.parametrize("module", TEXT_MODULES)
def test_no_operator_facing_text_is_left_unmarked(module):
    allowed = frozenset(NOT_TRANSLATED.get(module, ()))
    assert unmarked_texts(ROOT / module, allowed) == []


def test_the_scan_finds_an_unmarked_text(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docstring words are fine."""\n'
        "from merchant_desk.i18n import _\n"
        "def f(x):\n"
        '    """So are these."""\n'
        '    if x:\n'
        '        raise TypeError("a programmer error in English")\n'
        '    ok = _("a marked text")\n'
        '    if "looked for in a message" in str(x):\n'
        '        return ok\n'
        '    return "an operator text nobody marked"\n',
        encoding="utf-8",
    )
    assert unmarked_texts(sample) == ["sample.py:10: 'an operator text nobody marked'"]


def test_the_scan_knows_qt_words_from_qt_settings(tmp_path):
    sample = tmp_path / "window.py"
    sample.write_text(
        "from merchant_desk.i18n import N_, _, ngettext\n"
        'ERROR_STYLE = "color: #9b1c1c; font-weight: bold"\n'
        'TABLE = ((N_("Ready to capture"), 1),)\n'
        "def build(label, button, n, moment):\n"
        '    label.setStyleSheet("QLabel { color: red; }")\n'
        '    label.setText(ngettext("{n} order", "{n} orders", n).format(n=n))\n'
        '    label.setToolTip(f"{moment:%Y-%m-%d %H:%M}")\n'
        '    button.setText("Capture now")\n'
        '    label.setPlaceholderText("optional, e.g. Out of stock")\n',
        encoding="utf-8",
    )
    assert unmarked_texts(sample) == ["window.py:8: 'Capture now'",
                                      "window.py:9: 'optional, e.g. Out of stock'"]
    assert unmarked_texts(sample, frozenset({"Capture now"})) == [
        "window.py:9: 'optional, e.g. Out of stock'"]


#: Each marker's arguments that are texts: (first, last) of ``node.args``; pgettext's first
#: is its context, not a text.
_TEXT_ARGUMENTS = {"_": (0, 1), "N_": (0, 1), "ngettext": (0, 2), "pgettext": (1, 2)}


def marked_texts(path: Path) -> set[str]:
    """The texts a module passes to ``_()``/``N_()``/``ngettext()``/``pgettext()``, as Python
    reads them: a call inside an f-string is one the extractor cannot see."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        argument.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id in _TEXT_ARGUMENTS
        for argument in node.args[slice(*_TEXT_ARGUMENTS[node.func.id])]
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str)
    }


@pytest.mark.parametrize("module", TEXT_MODULES)
def test_every_text_the_code_marks_reaches_the_catalogs(module):
    assert marked_texts(ROOT / module) - source_texts() == set()
