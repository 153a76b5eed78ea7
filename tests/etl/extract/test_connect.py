"""Connecting to an account: the first OAuth run trades the authorization code for a token file."""

from __future__ import annotations

import stat

from etl.extract.pull import pull
from etl.simulated.emulator import start_emulator
from tests.etl.extract.pull_helpers import FAST, client_for, raw_latest, served


def test_first_oauth_run_trades_the_auth_code_for_a_token_file(tmp_path, tiny):
    from etl.config import load_config
    from etl.extract.connect import connect

    token_file = tmp_path / "amo-tokens.json"
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        emu.add_client("cid", "secret", "https://example.com/cb")
        env = {
            "AMOCRM_BASE_URL": emu.url,
            "AMOCRM_CLIENT_ID": "cid",
            "AMOCRM_CLIENT_SECRET": "secret",
            "AMOCRM_REDIRECT_URI": "https://example.com/cb",
            "AMOCRM_TOKEN_FILE": str(token_file),
            "AMOCRM_AUTH_CODE": emu.authorize("cid"),
        }
        conn = connect(load_config(), tmp_path / "raw", environ=env)
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and not conn.demo
        with client_for(emu, tokens=conn.tokens) as client:
            pull(tmp_path / "raw", client)
        assert raw_latest(tmp_path / "raw") == served(emu)
