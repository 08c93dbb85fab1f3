"""The catalogs: complete, no fuzzy or empty entry, the same placeholders as the source, the
compiled .mo what its .po says, the template what the code marks, and no operator-facing text
in the core left unmarked."""

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


def source_ids() -> set[str]:
    return {message.id for message in read_catalog(TEMPLATE) if message.id}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_entry_is_translated_not_fuzzy_and_keeps_its_placeholders(language):
    catalog = read_catalog(po_path(language))
    assert catalog.locale is not None and str(catalog.locale) == language
    assert not catalog.fuzzy, "the header is marked fuzzy"
    entries = {message.id: message for message in catalog if message.id}
    assert set(entries) == source_ids(), "catalog and template differ: run pybabel update"
    problems = []
    for msgid, message in entries.items():
        assert isinstance(msgid, str) and isinstance(message.string, str)  # no plural forms yet
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        if not message.string.strip():
            problems.append(f"empty: {msgid!r}")
            continue
        try:
            got = placeholders(message.string)
        except ValueError as error:
            problems.append(f"broken braces ({error}): {message.string!r}")
            continue
        if got != placeholders(msgid):
            problems.append(f"placeholders {sorted(got)} != {sorted(placeholders(msgid))}: {msgid!r}")
    assert not problems, "\n".join(problems)


def test_placeholders_are_named_never_positional():
    for msgid in source_ids():
        names = placeholders(msgid)
        assert "" not in names and not any(name.isdigit() for name in names), msgid


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_what_its_po_says(language):
    """The .mo files are committed (a checkout runs without a build step): never stale."""
    catalog = read_catalog(po_path(language))
    mo = po_path(language).with_suffix(".mo")
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    expected = {message.id: message.string for message in catalog if message.id}
    for msgid, msgstr in expected.items():
        assert compiled.gettext(msgid) == msgstr, f"{mo} is stale: pybabel compile"
    assert compiled.info()["language"] == language


def test_the_template_holds_exactly_what_the_code_marks():
    """A text marked with _()/N_() but missing from the catalogs fails here (and so does a
    catalog entry no code uses any more)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")
    marked = {
        message
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, directory_filter=lambda path: ".venv" not in path
        )
        if isinstance(message, str)
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
    "merchant_desk/desk/wording.py",
]
#: The command line's modules: every line it prints for a person, and its help.
CLI_TEXT_MODULES = [
    "merchant_desk/cli.py",
    "merchant_desk/commands.py",
    "merchant_desk/money_commands.py",
    "merchant_desk/payout_commands.py",
]
_MARKERS = {"_", "N_", "ngettext"}
# Programmer errors and logs are for developers, in English.
_DEVELOPER_ERRORS = {"TypeError", "ValueError", "AssertionError", "NotImplementedError"}
_LOGGING = {"debug", "info", "warning", "error", "exception"}


def _words(text: str) -> bool:
    """A text a person reads: at least two words of letters (capitals only are an example
    value or a code, such as a soft descriptor)."""
    if text.isupper():
        return False
    return len([w for w in text.replace("'", " ").split() if sum(c.isalpha() for c in w) >= 2]) >= 2


def unmarked_texts(path: Path) -> list[str]:
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
        if id(node) in docstrings or not _words(node.value):
            continue
        exempt, up = False, parents.get(node)
        while up is not None and not exempt:
            # a text looked for in another ("wrong" in str(error)) is never shown
            exempt = isinstance(up, ast.Compare) and up.left is node
            if isinstance(up, ast.Call):
                func = up.func
                name = func.id if isinstance(func, ast.Name) else (
                    func.attr if isinstance(func, ast.Attribute) else "")
                exempt = name in _MARKERS or name in _DEVELOPER_ERRORS or (
                    isinstance(func, ast.Attribute) and name in _LOGGING)
            up = parents.get(up)
        if not exempt:
            found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    return found


@pytest.mark.parametrize("module", CORE_TEXT_MODULES + CLI_TEXT_MODULES)
def test_no_operator_facing_text_in_the_core_or_the_command_line_is_left_unmarked(module):
    assert unmarked_texts(ROOT / module) == []


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


def marked_texts(path: Path) -> set[str]:
    """The texts a module passes to ``_()``/``N_()``, as Python reads them: a call inside an
    f-string is one the extractor cannot see."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        and node.func.id in ("_", "N_") and node.args
        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
    }


@pytest.mark.parametrize("module", CORE_TEXT_MODULES + CLI_TEXT_MODULES)
def test_every_text_the_code_marks_reaches_the_catalogs(module):
    assert marked_texts(ROOT / module) - source_ids() == set()
