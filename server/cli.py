"""`sms-server`: not built yet (see the server issue)."""

from __future__ import annotations

import sys


def main() -> int:
    print("sms-server: the central server is not built yet.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
