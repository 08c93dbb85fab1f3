"""Where the desk's signed client comes from: settings and a key, in the operator's words."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..i18n import _
from .errors import DeskError

if TYPE_CHECKING:  # the wire and the keyring are imported when the desk connects
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ..amazonpay.client import ClientConfig
    from ..secrets import KeyringStatus
    from ..settings import Settings


def client_config(settings: Settings, data_dir: Path, passphrase: str | None,
                  private_key: rsa.RSAPrivateKey | None) -> tuple[ClientConfig, str]:
    """The client's configuration and where its key came from, in words (see Desk.open)."""
    from .. import secrets
    from ..amazonpay import signing
    from ..amazonpay.client import ClientConfig

    if private_key is not None:
        key_source = _("the key being checked in Settings")
        public_key_id = settings.public_key_id
        if not public_key_id:
            raise DeskError(_("No public key ID: enter the one Seller Central shows beside the key."))
    elif settings.private_key_file:
        key_source = _("the key file {path}").format(path=settings.private_key_file)
        pem = Path(settings.private_key_file).expanduser().read_bytes()
        private_key = signing.load_private_key(pem, passphrase)
        public_key_id = settings.public_key_id
        if not public_key_id:
            raise DeskError(
                _("No public key ID: give --public-key-id (Seller Central shows it beside the key).")
            )
    else:
        credentials = secrets.load_credentials(data_dir=data_dir, passphrase=passphrase)
        stored = secrets.describe(data_dir)
        key_source = str(stored.where) if stored else _("the system keyring")
        private_key = credentials.private_key
        public_key_id = settings.public_key_id or credentials.public_key_id
    config = ClientConfig(
        public_key_id=public_key_id,
        private_key=private_key,
        region=settings.region,
        environment=settings.environment,
        algorithm=settings.algorithm,
        endpoint=settings.endpoint,
    )
    return config, key_source


def keyring_label(status: KeyringStatus) -> str:
    """The keyring's name as the doctor and the Settings dialog show it."""
    return str(status.label or status.backend_name)
