"""How the ETL's processes set polars' allocator: memory a step frees goes back to the system within a second.

Polars allocates with jemalloc, which by default keeps the pages of freed memory for about ten
seconds to reuse them.  A build frees large frames one step after another (a collection parsed
and written as its part, the raw columns of a table once it is built), so those pages stayed
counted in the process' memory next to what the later steps held: a five-year full build
peaked at 3.0 GiB of which about 1.2 GiB were such pages (bench/README.md, issue 10).  Here a
background thread returns pages unused for a second: the peak is then close to what the build
holds at once (1.9 GiB), at the speed of the default; returning them at once (decay 0) saved
another 0.2 GiB but made a five-year build 20–30 % slower (one madvise per free).

The setting is read when polars loads, so it must be made before anything imports polars:
``python -m etl`` (every build and refresh, the admin's button included) does it first thing;
the benches give their child processes the same environment.  A value already in the
environment is kept.
"""

from __future__ import annotations

import os

#: jemalloc's options, in the variable polars' build of jemalloc reads them from.
ENV: dict[str, str] = {"_RJEM_MALLOC_CONF": "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"}


def configure() -> None:
    """Set :data:`ENV` in this process unless already set (before polars is imported)."""
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
