"""The command line's exit codes (ARCHITECTURE "Contract: command line"); scripts rely on them.

A module of their own so that the parser (``cli``) and the commands (``commands``) both use them
without importing each other.
"""

from __future__ import annotations

#: Done.
EXIT_OK = 0
#: Amazon refused (its reasonCode and message are printed).
EXIT_REFUSED = 1
#: Invalid input or usage, or the data folder cannot be used: nothing was sent.
EXIT_USAGE = 2
#: Amazon Pay could not be reached after the client's retries.
EXIT_UNREACHABLE = 3
#: The outcome of a money operation is unknown: it is left pending in the journal.
EXIT_PENDING = 4
#: Stopped by Ctrl+C with nothing left pending (the shell's convention: 128 + SIGINT).
EXIT_INTERRUPTED = 130
