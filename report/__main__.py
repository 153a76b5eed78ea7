"""``python -m report``: serve the report (development server); ``python -m report serve
--workers N``: serve it with gunicorn (production); ``python -m report export …``: export a metric.

Serving (``report.server``) first makes sure a snapshot exists: on a fresh machine with no
amoCRM account configured it builds the demo account's snapshot, showing progress.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "export":
        from report.export import main as export_main

        return int(export_main(argv[1:]) or 0)
    from report.server import main as serve_main

    return int(serve_main(argv) or 0)


if __name__ == "__main__":
    sys.exit(main())
