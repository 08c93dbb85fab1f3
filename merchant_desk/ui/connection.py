"""Where the window's desk comes from: the cached list at once, then its connection.

The window paints the orders from a desk on the data folder alone (:func:`open_local`); the
connection follows (:func:`connect`): the embedded emulator in demo mode, otherwise the
account's key and the signed client. When that key is locked (the passphrase-encrypted file
used where there is no system keyring, or a key file the operator encrypted), the passphrase is
asked for here, once per connection, through a :data:`PassphraseProvider`: the window plugs in
its prompt (``ui/passphrase.py``), a test or another front its own.

No Qt here, and the wire is imported only when a desk connects (after the first paint).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..i18n import _

if TYPE_CHECKING:
    from ..desk import Desk
    from ..settings import Settings

#: Asked with what is locked, in words ("the key file /home/…/key.pem"); gives the passphrase,
#: or None when the operator declines.
PassphraseProvider = Callable[[str], Awaitable[str | None]]


class KeyNotUnlocked(Exception):
    """The operator declined to give the key's passphrase: nothing was connected."""

    def __init__(self, what: str) -> None:
        super().__init__(_("The passphrase of {what} was not given, so the key stays locked.")
                         .format(what=what))
        self.what = what


def given(passphrase: str) -> PassphraseProvider:
    """A provider that answers with a passphrase already typed (Settings' key import)."""

    async def provide(_what: str) -> str | None:
        return passphrase

    return provide


def demo_dir(data_dir: Path) -> Path:
    """The demo's own data folder, one per market (the language's): its sample orders never mix
    with the account's, nor with another market's."""
    from .. import demo

    return data_dir / demo.folder_name()


def open_local(data_dir: Path, settings: Settings, *, demo: bool) -> Desk:
    """A desk on the cache alone (no key, no network): what the window paints first."""
    from ..desk import Desk
    from ..settings import ensure_private_dir

    if demo:
        return Desk.open_local(ensure_private_dir(demo_dir(data_dir)), environment_label="DEMO")
    return Desk.open_local(data_dir, environment_label=settings.label)


async def connect(desk: Desk, settings: Settings, *, demo: bool,
                  passphrase: PassphraseProvider) -> None:
    """Give a desk from :func:`open_local` its client: the emulator, or the account's key."""
    if demo:
        await connect_demo(desk)
        return
    # signing on the loop's thread: a signing thread beside Qt's loop competes with it for the
    # interpreter and stalls the window (AmazonPayClient's ``sign_on_thread``)
    await desk.connect(settings, passphrase=await unlock(settings, desk.store.data_dir, passphrase),
                       sign_on_thread=False)


async def open_account(settings: Settings, data_dir: Path, *,
                       passphrase: PassphraseProvider) -> Desk:
    """A connected desk on ``settings`` (the window switching accounts after Settings)."""
    from ..desk import Desk

    return await Desk.open(settings, data_dir=data_dir,
                           passphrase=await unlock(settings, data_dir, passphrase),
                           sign_on_thread=False)


async def unlock(settings: Settings, data_dir: Path, provider: PassphraseProvider) -> str | None:
    """The passphrase the key needs, asked once; None when the key is not locked.

    :class:`KeyNotUnlocked` when the operator declines (an empty answer is declining too)."""
    what = locked_key(settings, data_dir)
    if what is None:
        return None
    answer = await provider(what)
    if not answer:
        raise KeyNotUnlocked(what)
    return answer


def locked_key(settings: Settings, data_dir: Path) -> str | None:
    """What needs a passphrase before the desk can sign, in words; None when nothing does.

    Reads no secret (:func:`secrets.locked_key`). A key file that cannot be read is not asked
    about: connecting reports it in plain words."""
    from .. import secrets

    try:
        locked = secrets.locked_key(data_dir, settings.private_key_file or None)
    except secrets.SecretsError:
        return None
    return None if locked is None else _("the key file {path}").format(path=locked.path)


# --------------------------------------------------------------------------- the demo
# The only calls into the demo's wiring (the embedded emulator and its sample orders).


async def connect_demo(desk: Desk) -> None:
    """Connect a desk from :func:`open_local` (``demo=True``) to the embedded emulator."""
    from .. import demo

    await demo.connect_demo(desk)


async def open_demo(data_dir: Path) -> Desk:
    """A demo desk, connected, with its sample orders cached (screenshots, tests)."""
    from .. import demo

    return await demo.open_demo_desk(data_dir)
