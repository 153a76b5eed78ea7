"""Credentials against the emulator: an expired long-lived token, and the rotating OAuth pair."""

from __future__ import annotations

import json
import stat

import pytest

from etl.extract.pull import pull
from etl.extract.tokens import (
    AmoError,
    OAuthSettings,
    OAuthTokens,
    StaticToken,
    exchange_code,
    write_token_file,
)
from etl.simulated.emulator import start_emulator
from tests.etl.extract.pull_helpers import FAST, client_for, raw_latest, served


def test_expired_long_lived_token_is_an_auth_error(tmp_path, tiny):
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        expired = emu.issue_token(ttl_s=-1)
        with client_for(emu, tokens=StaticToken(expired)) as client, pytest.raises(AmoError) as err:
            pull(tmp_path, client)
    assert err.value.kind == "auth" and "токен истёк" in err.value.message
    assert not (tmp_path / "export.json").exists()


def test_oauth_refresh_rotates_and_persists_the_pair_before_use(tmp_path, tiny):
    token_file = tmp_path / "tokens.json"
    settings = OAuthSettings("cid", "secret", "https://example.com/cb", token_file)
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        emu.add_client("cid", "secret", "https://example.com/cb")
        with client_for(emu) as c:
            exchange_code(c.session, emu.url, settings, emu.authorize("cid"))
        first = json.loads(token_file.read_text())
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        # The access token expires: the client gets a 401, refreshes once, and carries on.
        expired = emu.state.issue_pair("cid", access_ttl_s=-1)
        write_token_file(token_file, expired)
        with client_for(emu, tokens=OAuthTokens(settings)) as client:
            pull(tmp_path / "raw", client)
            assert client.stats.refreshed == 1
        second = json.loads(token_file.read_text())
        assert second["refresh_token"] != expired["refresh_token"] and stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert raw_latest(tmp_path / "raw") == served(emu)
        # The old refresh token died with the rotation: reusing it is refused.
        write_token_file(token_file, {**expired, "access_token": emu.issue_token(ttl_s=-1)})
        with client_for(emu, tokens=OAuthTokens(settings)) as client, pytest.raises(AmoError) as err:
            client.get("/api/v4/account")
        assert err.value.kind == "auth"
        assert first["refresh_token"] != second["refresh_token"]
