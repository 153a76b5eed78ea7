"""Component ids of the admin panel (all prefixed ``admin-``), shared by layout, callbacks and tests."""

from __future__ import annotations

ROOT = "admin-root"
CONTROLS = "admin-controls"
REFRESH = "admin-refresh"
CANCEL = "admin-cancel"
USER = "admin-user"
LOGOUT = "admin-logout"
LOGIN_LINK = "admin-login-link"
PROGRESS_WRAP = "admin-progress-wrap"
PROGRESS = "admin-progress"
STAGE = "admin-stage"
RESULT = "admin-result"
MESSAGE = "admin-message"
JOB = "admin-job"
INTERVAL = "admin-interval"
