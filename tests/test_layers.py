"""The layers keep to themselves: the core never imports the emulator or Qt, money needs only
the standard library, and the app's start-up is what puts the demo together."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "merchant_desk"

#: The core: what the command line and the window both stand on.
CORE = [
    "desk",
    "rules.py",
    "money.py",
    "meanings.py",
    "events.py",
    "store",
    "amazonpay",
    "settings.py",
    "paths.py",
    "i18n.py",
    "money_locale.py",
]
#: What the core must never import (nor anything under them).
FORBIDDEN = ("merchant_desk.sandbox", "merchant_desk.ui", "merchant_desk.demo", "PySide6",
             "qasync", "starlette", "uvicorn")


def _modules(entry: str) -> list[Path]:
    path = PACKAGE / entry
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, anywhere in it (lazy imports inside functions too),
    relative imports resolved to absolute names."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.append(module)
            # ``from .. import sandbox`` imports a module by its name
            names += [f"{module}.{alias.name}" for alias in node.names]
    return names


def _forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


@pytest.mark.parametrize("path", [p for entry in CORE for p in _modules(entry)],
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_never_imports_the_emulator_or_qt(path):
    assert [name for name in _imports(path) if _forbidden(name)] == []


def test_the_check_sees_lazy_and_relative_imports(tmp_path, monkeypatch):
    """The walk above would catch the demo wiring the desk once held."""
    fake = PACKAGE / "desk" / "base.py"
    source = "def f():\n    from ..sandbox.app import create_app\n    from .. import ui\n"
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    assert [n for n in _imports(fake) if _forbidden(n)] == [
        "merchant_desk.sandbox.app", "merchant_desk.sandbox.app.create_app", "merchant_desk.ui"]


def test_money_needs_only_the_standard_library():
    """Its words come through i18n (gettext; Babel only inside the functions that need it).
    The locale's way of writing amounts (Babel's CLDR data) is money_locale, which money does
    not import."""
    for module, own in (("money.py", {"merchant_desk.i18n", "merchant_desk.i18n._"}),
                        ("i18n.py", {"babel", "babel.localedata", "babel.dates",
                                     "babel.dates.format_datetime", "babel.dates.format_date"})):
        outside = [name for name in _imports(PACKAGE / module)
                   if name.split(".")[0] not in sys.stdlib_module_names and name != "__future__"
                   and not name.startswith("__future__.") and name not in own]
        assert outside == [], module


def test_importing_the_core_loads_neither_the_emulator_nor_qt():
    """In a fresh interpreter, as the command line starts."""
    code = (
        "import sys\n"
        "import merchant_desk.desk, merchant_desk.rules, merchant_desk.money\n"
        "import merchant_desk.meanings, merchant_desk.store, merchant_desk.amazonpay.client\n"
        f"bad = {FORBIDDEN!r}\n"
        "print(sorted(m for m in sys.modules if any(m == b or m.startswith(b + '.') "
        "for b in bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent, timeout=120)
    assert out.stdout.strip() == "[]"


def test_the_demo_is_composed_outside_the_core():
    """The demo module is where the emulator meets the desk, and the desk has no demo API."""
    from merchant_desk.desk import Desk

    assert any(name.startswith("merchant_desk.sandbox") for name in
               _imports(PACKAGE / "demo.py"))
    assert not hasattr(Desk, "open_demo") and not hasattr(Desk, "connect_demo")


def test_the_desk_loads_without_the_wire_so_the_list_paints_before_connecting():
    """The window paints the cached list before the desk connects: importing the desk must not
    pull in httpx, cryptography or the signed client (they load when it connects)."""
    code = (
        "import sys, merchant_desk.desk\n"
        "print(sorted(m for m in ('httpx', 'cryptography', 'merchant_desk.amazonpay.client')"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PACKAGE.parent, timeout=120)
    assert out.stdout.strip() == "[]"
