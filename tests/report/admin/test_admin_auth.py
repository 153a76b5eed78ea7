"""Credentials, sessions and the shared secret key: pure checks, no server."""

from __future__ import annotations

import os
import stat

import pytest
from werkzeug.security import generate_password_hash

from report.admin import auth


def settings(**env: str) -> auth.AccessSettings:
    return auth.load_settings(env)


def test_no_password_means_admin_disabled_and_nobody_is_admin():
    s = settings()
    assert not s.admin_enabled
    assert s.admin_user == "admin"
    assert not auth.check_admin(s, "admin", "")
    assert not auth.check_admin(s, "admin", "anything")


def test_plain_password_checks_user_and_password():
    s = settings(REPORT_ADMIN_USER="boss", REPORT_ADMIN_PASSWORD="pw-1")
    assert auth.check_admin(s, "boss", "pw-1")
    assert not auth.check_admin(s, "admin", "pw-1")  # right password, wrong user
    assert not auth.check_admin(s, "boss", "pw-2")
    assert not auth.check_admin(s, "boss", None)


def test_werkzeug_hash_is_accepted_and_checked():
    s = settings(REPORT_ADMIN_PASSWORD_HASH=generate_password_hash("s3cret"))
    assert s.admin_enabled
    assert auth.check_admin(s, "admin", "s3cret")
    assert not auth.check_admin(s, "admin", "S3cret")


def test_a_hash_that_is_not_one_is_refused_naming_the_variable_not_the_value():
    with pytest.raises(auth.AuthConfigError) as err:
        settings(REPORT_ADMIN_PASSWORD_HASH="plaintextoops")
    assert "REPORT_ADMIN_PASSWORD_HASH" in str(err.value)
    assert "plaintextoops" not in str(err.value)


def test_secrets_stay_out_of_repr():
    s = settings(REPORT_ADMIN_PASSWORD="pw-visible?", REPORT_VIEWER_KEY="key-visible?")
    assert "pw-visible?" not in repr(s)
    assert "key-visible?" not in repr(s)


def test_viewer_key():
    s = settings(REPORT_VIEWER_KEY="k-123")
    assert s.viewer_key_required
    assert auth.check_viewer_key(s, "k-123")
    assert not auth.check_viewer_key(s, "k-124")
    assert not auth.check_viewer_key(settings(), "k-123")  # no key configured: nothing to match


def test_admin_session_expires_and_dies_with_a_password_change():
    s = settings(REPORT_ADMIN_PASSWORD="pw-1", REPORT_ADMIN_SESSION_HOURS="2")
    key = "server-secret"
    sess = {auth.S_ADMIN: "admin", auth.S_ADMIN_MAC: auth.admin_mac(key, s), auth.S_ADMIN_AT: 1_000_000}
    assert auth.session_admin(sess, key, s, now=1_000_000 + 3600) == "admin"
    assert auth.session_admin(sess, key, s, now=1_000_000 + 2 * 3600 + 1) is None  # 2 h passed
    changed = settings(REPORT_ADMIN_PASSWORD="pw-2", REPORT_ADMIN_SESSION_HOURS="2")
    assert auth.session_admin(sess, key, changed, now=1_000_000 + 60) is None
    assert auth.session_admin(sess, "another-server-key", s, now=1_000_000 + 60) is None
    # The session cookie is readable by its holder: it must not carry the password.
    assert "pw-1" not in repr(sess)


def test_secret_key_file_is_created_once_with_mode_0600_and_shared(tmp_path):
    first = auth.load_secret_key({}, tmp_path)
    second = auth.load_secret_key({}, tmp_path)  # another worker
    assert first == second and len(first) == 64
    mode = stat.S_IMODE(os.stat(tmp_path / ".secret_key").st_mode)
    assert mode == 0o600
    assert auth.load_secret_key({"REPORT_SECRET_KEY": "from-env"}, tmp_path) == "from-env"


def test_redact():
    assert auth.redact("token abcd1234 rejected", ("abcd1234",)) == "token *** rejected"
