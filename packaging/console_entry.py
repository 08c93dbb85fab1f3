"""Console twin of the double-click app (``merchant-desk`` in the bundle): the whole command line.

For support, scripting and CI: ``merchant-desk gui --demo --smoke``, ``merchant-desk verify ...``,
``merchant-desk sandbox serve ...``. Without arguments it opens the window, like the source app.
"""

import sys

from merchant_desk.cli import main

if __name__ == "__main__":
    sys.exit(main())
