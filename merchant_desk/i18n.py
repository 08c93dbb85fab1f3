"""Which language Merchant Desk speaks, and its words in that language.

One mechanism for the core, the command line and the window: gettext catalogs
(``merchant_desk/locale/<lang>/LC_MESSAGES/merchant_desk.po``, compiled to ``.mo`` beside them),
read with the standard library's :mod:`gettext`. No Qt here: the window passes what Qt knows of
the system's languages (``QLocale.system().uiLanguages()``) to :func:`choose_language`.

The active language is one process-wide setting, English until an entry point calls
:func:`set_language`. A text is marked with ``_()`` where it is made, so it is translated into
the language active at that moment; texts kept in module-level tables are marked with ``N_()``
(which only marks) and translated with ``_()`` where they are read. A text with a count is
``ngettext(singular, plural, n)`` (Japanese has one form, Italian and Spanish three). A sentence
is one entry with named placeholders (``_("Capture {amount} now").format(amount=...)``), never
glued from fragments; Amazon's codes, states and reason codes are placeholders, not words.
The window (``merchant_desk/ui``) marks its texts the same way.

Keeping the catalogs (``pybabel`` is Babel's command line)::

    pybabel extract -F babel.cfg -c TRANSLATORS: --add-location=file --width=100 \\
        -o merchant_desk/locale/merchant_desk.pot .
    pybabel update -i merchant_desk/locale/merchant_desk.pot -d merchant_desk/locale \\
        -D merchant_desk --width=100 --ignore-obsolete --no-fuzzy-matching
    # translate every new or fuzzy entry in each .po, then
    pybabel compile -d merchant_desk/locale -D merchant_desk --statistics

The ``.mo`` files are committed beside their ``.po``, so a checkout runs with no build step.

``tests/test_i18n_catalogs.py`` fails while an entry is missing, empty, fuzzy, has other
placeholders than its source, or while a ``.mo`` is not what its ``.po`` compiles to.
"""

from __future__ import annotations

import contextlib
import gettext
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

log = logging.getLogger(__name__)

DOMAIN = "merchant_desk"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: The languages Merchant Desk speaks; English is the source language of every text.
LANGUAGES: tuple[str, ...] = ("en", "it", "de", "fr", "es", "ja")
SOURCE_LANGUAGE = "en"
#: The environment variable that chooses the language, like ``--language``.
ENV_VARIABLE = "MERCHANT_DESK_LANGUAGE"
# The variables gettext itself reads for the messages' language, in its order of precedence.
_POSIX_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
# "it", "it_IT", "it-IT", "it_IT.UTF-8", "it_IT@euro", "zh-Hant-TW", "de_DE.ISO8859-15@euro"
_TAG = re.compile(
    r"(?P<language>[A-Za-z]{2,3})"
    r"(?:[_-](?P<script>[A-Za-z]{4}))?"
    r"(?:[_-](?P<territory>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:[.@].*)?",
    re.ASCII,
)


class LanguageError(ValueError):
    """A language asked for by name that Merchant Desk does not speak; ``str()`` says which do."""


def N_(message: str) -> str:
    """Marks ``message`` for translation where it cannot be translated yet (a module's tables)."""
    return message


@dataclass(frozen=True, slots=True)
class _Active:
    locale: str
    translations: gettext.NullTranslations


_active = _Active(SOURCE_LANGUAGE, gettext.NullTranslations())


def _(message: str) -> str:
    """``message`` in the active language (itself in English or when no translation exists)."""
    return _active.translations.gettext(message)


def pgettext(context: str, message: str) -> str:
    """``message`` as it reads in ``context``: a window's action ("action": a verb on its
    button, "Rimborsa") where the same English word is also the operation's name elsewhere
    (a noun, "Rimborso")."""
    return _active.translations.pgettext(context, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a text for a count ``n`` in the active language (Japanese has one form,
    French counts 0 as singular)."""
    return _active.translations.ngettext(singular, plural, n)


# --------------------------------------------------------------------------- choosing


def normalize(tag: str | None) -> str | None:
    """The locale Merchant Desk would use for a language tag, or None when it does not speak it.

    Accepts POSIX names (``it_IT.UTF-8``, ``de_DE@euro``), BCP 47 tags (``it-IT``,
    ``ja-Jpan-JP``) and bare languages (``fr``). The result is a Babel/CLDR locale identifier:
    the language, and the territory when CLDR knows that pair (``de_CH``, ``en_GB``): the
    territory decides how money and dates are written.
    """
    match = _TAG.fullmatch((tag or "").strip())
    if not match:
        return None
    language = match["language"].lower()
    if language not in LANGUAGES:
        return None
    territory = (match["territory"] or "").upper()
    if territory and _cldr_knows(f"{language}_{territory}"):
        return f"{language}_{territory}"
    return language


def _cldr_knows(identifier: str) -> bool:
    from babel import localedata

    return localedata.exists(identifier)


def posix_languages(environ: Mapping[str, str]) -> list[str]:
    """The languages the POSIX locale variables name, best first (``LANGUAGE`` may list
    several, separated by ':'); "C" and "POSIX" name none."""
    found: list[str] = []
    for name in _POSIX_VARIABLES:
        value = environ.get(name, "")
        for part in value.split(":") if name == "LANGUAGE" else [value]:
            part = part.strip()
            if part and part.split(".")[0] not in ("C", "POSIX"):
                found.append(part)
    return found


def os_languages() -> list[str]:
    """The user's interface languages as the operating system reports them, best first.

    Windows keeps them outside the environment (``GetUserPreferredUILanguages``); elsewhere the
    POSIX variables already say it, and the window adds what Qt reports (macOS's list).
    """
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        mui_language_name = 0x8
        try:
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            count, size = wintypes.ULONG(0), wintypes.ULONG(0)
            get = kernel32.GetUserPreferredUILanguages
            if not get(mui_language_name, ctypes.byref(count), None, ctypes.byref(size)):
                return []
            buffer = ctypes.create_unicode_buffer(size.value)
            if not get(mui_language_name, ctypes.byref(count), buffer, ctypes.byref(size)):
                return []
        except (OSError, AttributeError):
            return []
        return [part for part in buffer[: size.value].split("\0") if part]
    return []


def choose_language(
    requested: str | None = None,
    environ: Mapping[str, str] | None = None,
    system: Sequence[str] = (),
) -> str:
    """The locale to speak: ``--language`` (``requested``), else ``MERCHANT_DESK_LANGUAGE``,
    else the first language of the system that Merchant Desk speaks, else English.

    The system's languages are ``system`` (the window passes Qt's
    ``QLocale.system().uiLanguages()``), then the POSIX variables (``LANGUAGE``, ``LC_ALL``,
    ``LC_MESSAGES``, ``LANG``), then what Windows reports. A language asked for by name that
    Merchant Desk does not speak is a :class:`LanguageError` (a typo should not silently give
    English); an unspoken system language is passed over.
    """
    env = os.environ if environ is None else environ
    for source, tag in (("--language", requested), (ENV_VARIABLE, env.get(ENV_VARIABLE))):
        if tag is not None and tag.strip():
            chosen = normalize(tag)
            if chosen is None:
                raise LanguageError(
                    _("{source}: Merchant Desk does not speak \"{language}\"; use one of "
                      "{languages}").format(source=source, language=tag,
                                            languages=", ".join(LANGUAGES))
                )
            return chosen
    for tag in [*system, *posix_languages(env), *os_languages()]:
        chosen = normalize(tag)
        if chosen is not None:
            return chosen
    return SOURCE_LANGUAGE


# --------------------------------------------------------------------------- switching


def set_language(locale: str) -> str:
    """Speak ``locale`` from now on (a tag :func:`normalize` accepts); returns the locale used.

    A catalog that cannot be read leaves the words in English (logged), never a crash: money
    and dates still follow ``locale``.
    """
    global _active
    chosen = normalize(locale)
    if chosen is None:
        raise LanguageError(
            _('Merchant Desk does not speak "{language}"; use one of {languages}').format(
                language=locale, languages=", ".join(LANGUAGES))
        )
    _active = _Active(chosen, _translations(chosen.partition("_")[0]))
    return chosen


def _translations(language: str) -> gettext.NullTranslations:
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    except OSError as error:
        log.warning("No %s catalog (%s): the words stay in English", language, error)
        return gettext.NullTranslations()


@contextlib.contextmanager
def language(locale: str) -> Iterator[str]:
    """Speak ``locale`` inside the block, then the language spoken before."""
    global _active
    before = _active
    try:
        yield set_language(locale)
    finally:
        _active = before


def current_locale() -> str:
    """The active locale's identifier (``it``, ``de_CH``, ``en_GB``): money, dates and input
    follow it."""
    return _active.locale


def current_language() -> str:
    """The active language alone (``it``, ``de``, ``en``): the words follow it."""
    return _active.locale.partition("_")[0]


# --------------------------------------------------------------------------- dates


def format_datetime(moment: datetime, locale: str | None = None) -> str:
    """A moment as the locale writes it, in this computer's time zone ("4 dic 2026, 14:05:09").

    A naive ``datetime`` is taken as UTC (the store keeps UTC).
    """
    from babel.dates import format_datetime as babel_format_datetime

    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return babel_format_datetime(aware.astimezone(), "medium", locale=locale or current_locale())


def format_date(day: date, locale: str | None = None) -> str:
    """A day as the locale writes it ("4 dic 2026", "2026/12/04")."""
    from babel.dates import format_date as babel_format_date

    return babel_format_date(day, "medium", locale=locale or current_locale())
