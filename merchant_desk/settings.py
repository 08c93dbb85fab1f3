"""The operator's profile: region, environment, IDs, endpoint and the window's language. Never
a secret.

Stored as ``settings.json`` in the data directory (mode 0600). Command-line options and their
environment variables override the file; the file overrides the defaults.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from .amazonpay.endpoints import ENVIRONMENTS, environment_of_key
from .amazonpay.endpoints import REGION_ALIASES as REGIONS
from .amazonpay.signing import ALGORITHMS, DEFAULT_ALGORITHM
from .i18n import _
from .paths import default_data_dir

SETTINGS_FILE = "settings.json"


class SettingsError(ValueError):
    """A setting has a value Merchant Desk cannot use; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Settings:
    region: str = "na"
    environment: str = "sandbox"
    merchant_id: str | None = None
    store_id: str | None = None
    public_key_id: str | None = None
    endpoint: str | None = None
    algorithm: str = DEFAULT_ALGORITHM
    #: The window's language chosen in Settings (``it``, ``de_CH``...); None: the system's.
    #: ``--language`` and ``MERCHANT_DESK_LANGUAGE`` still win over it.
    language: str | None = None
    #: A PEM file to read the key from instead of the keyring (CLI only; never saved).
    private_key_file: str | None = None

    def validated(self) -> Settings:
        region = REGIONS.get((self.region or "").lower())
        if region is None:
            raise SettingsError(_("Region {region} is not one of {regions}.").format(
                region=repr(self.region), regions=", ".join(dict.fromkeys(REGIONS.values()))))
        environment = (self.environment or "").lower()
        if environment not in ENVIRONMENTS:
            raise SettingsError(_("Environment {environment} is not one of {environments}.").format(
                environment=repr(self.environment), environments=", ".join(ENVIRONMENTS)))
        if self.algorithm not in ALGORITHMS:
            raise SettingsError(_("Signing algorithm {algorithm} is not one of {algorithms}.").format(
                algorithm=repr(self.algorithm), algorithms=", ".join(ALGORITHMS)))
        language = None
        if self.language:
            from .i18n import LANGUAGES, normalize

            language = normalize(self.language)
            if language is None:
                raise SettingsError(_("Language {language} is not one of {languages}.").format(
                    language=repr(self.language), languages=", ".join(LANGUAGES)))
        return replace(self, region=region, environment=environment, language=language)

    @property
    def label(self) -> str:
        """What the window's badge shows: SANDBOX or LIVE, where requests really go (the key's
        own environment when its ID names one, as the client decides)."""
        return environment_of_key(self.public_key_id or "", self.environment).upper()

    @property
    def has_credentials_hint(self) -> bool:
        return bool(self.public_key_id)


def load_settings(data_dir: Path) -> Settings:
    """Read ``settings.json``; defaults when absent. Unknown keys are ignored."""
    path = data_dir / SETTINGS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        raise SettingsError(_("{path} could not be read ({error}); fix or delete it.").format(
            path=path, error=exc)) from None
    if not isinstance(data, dict):
        raise SettingsError(
            _("{path} does not hold a settings object; fix or delete it.").format(path=path))
    known = {f.name for f in fields(Settings)} - {"private_key_file"}
    return Settings(**{k: v for k, v in data.items() if k in known and v is not None})


def save_settings(data_dir: Path, settings: Settings) -> None:
    """Write ``settings.json`` atomically, readable by the user only."""
    settings = settings.validated()
    ensure_private_dir(data_dir)
    data = {k: v for k, v in asdict(settings).items() if k != "private_key_file"}
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".settings-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, data_dir / SETTINGS_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_private_dir(path: Path) -> Path:
    """Create the data directory readable by the user only."""
    path.mkdir(parents=True, exist_ok=True)
    # a directory owned by someone else keeps its mode; the files inside are still 0600
    with contextlib.suppress(OSError):
        path.chmod(0o700)
    return path


def resolve(overrides: dict[str, Any], data_dir: Path | None = None) -> tuple[Path, Settings]:
    """Settings from the file in ``data_dir`` overlaid with non-None command-line overrides."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    base = load_settings(data_dir)
    known = {f.name for f in fields(Settings)}
    chosen = {k: v for k, v in overrides.items() if k in known and v is not None}
    return data_dir, replace(base, **chosen).validated()
