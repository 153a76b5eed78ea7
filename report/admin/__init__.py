"""Admin refresh and access control (issue 6): roles, the refresh job, its HTTP API and UI panel.

The lead wires it in right after ``create_app``::

    app = create_app(config, data_dir, extra_layout=admin.panel_layout)
    admin.install(app, config, data_dir)

Importing this package is light (no dash, no polars): the refresh supervisor process imports
``report.admin.jobs`` and must stay small.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dash

    from etl.config import Config


def install(app: dash.Dash, config: Config, data_dir: Path, *, environ: Mapping[str, str] | None = None) -> None:
    """Add access control, the /admin/ routes and the panel's callbacks to a report app.

    ``environ`` (default ``os.environ``) supplies REPORT_* settings and the refresh child's
    environment (AMOCRM_* included).  Raises :class:`report.admin.auth.AuthConfigError` with a
    message naming the variable when the settings are wrong.
    """
    from report import backend
    from report.admin import auth, panel, routes, security

    env = dict(os.environ if environ is None else environ)
    data_dir = Path(data_dir)
    settings = auth.load_settings(env)
    data_dir.mkdir(parents=True, exist_ok=True)
    app.server.secret_key = auth.load_secret_key(env, data_dir)
    actx = routes.AdminContext(
        settings=settings,
        data_dir=data_dir,
        snapshots_dir=data_dir / config.snapshots_dir,
        config_path=config.path or None,
        default_lang=config.locale,
        environ=env,
        asset_css=app.get_asset_url("bootstrap.min.css"),
        cancel_timeout_s=_cancel_timeout(env),
        throttle=backend.failure_limiter(env),
    )
    routes.register(app.server, actx)  # the viewer gate first: no key, no word about payloads
    security.install(
        app.server, app, env, origin_checked=lambda output: "admin-" in output, frame_origins=config.frame_ancestors
    )
    panel.register_callbacks(app, actx)


def panel_layout(lang: str) -> Any:
    """The admin slot's component for the header (``create_app(..., extra_layout=panel_layout)``)."""
    from report.admin.panel import panel_layout as _layout

    return _layout(lang)


def _cancel_timeout(env: Mapping[str, str]) -> float:
    """Seconds between SIGTERM and SIGKILL when a refresh is cancelled (REPORT_REFRESH_CANCEL_TIMEOUT)."""
    from report.admin.auth import AuthConfigError
    from report.admin.jobs import DEFAULT_CANCEL_TIMEOUT_S

    raw = env.get("REPORT_REFRESH_CANCEL_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_CANCEL_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise AuthConfigError("REPORT_REFRESH_CANCEL_TIMEOUT must be a positive number of seconds")
    return value
