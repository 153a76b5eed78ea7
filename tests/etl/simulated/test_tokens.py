"""Tokens: bad and expired ones get 401; OAuth code grant and refresh-token rotation."""

from __future__ import annotations

import time

import requests

from etl.extract.amo_client import jwt_exp
from etl.simulated.emulator import make_jwt
from tests.etl.simulated.emulator_cases import get


def test_bad_and_expired_tokens_get_401_problem_json(emu):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        r = requests.get(emu.url + "/api/v4/leads", headers=headers, timeout=5)
        assert r.status_code == 401 and r.headers["Content-Type"] == "application/problem+json"
        assert r.json()["status"] == 401 and r.json()["title"]
    forged = make_jwt(b"not the server's secret", {"exp": int(time.time()) + 3600, "jti": "x"})
    assert get(emu, "/api/v4/leads", token=forged).status_code == 401
    expired = emu.issue_token(ttl_s=-1)
    r = get(emu, "/api/v4/leads", token=expired)
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert jwt_exp(expired) < time.time() < jwt_exp(emu.token)  # JWT-shaped, exp readable by clients


def test_oauth_code_and_refresh_rotation(emu):
    emu.add_client("cid", "secret", "https://example.com/cb")
    code = emu.authorize("cid")
    body = {"client_id": "cid", "client_secret": "secret", "redirect_uri": "https://example.com/cb"}
    pair = requests.post(
        emu.url + "/oauth2/access_token", json={**body, "grant_type": "authorization_code", "code": code}, timeout=5
    ).json()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 86400
    assert get(emu, "/api/v4/account", token=pair["access_token"]).status_code == 200
    again = requests.post(
        emu.url + "/oauth2/access_token", json={**body, "grant_type": "authorization_code", "code": code}, timeout=5
    )
    assert again.status_code == 400  # a code works once
    new = requests.post(
        emu.url + "/oauth2/access_token",
        json={**body, "grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        timeout=5,
    )
    assert new.status_code == 200 and new.json()["refresh_token"] != pair["refresh_token"]
    old = requests.post(
        emu.url + "/oauth2/access_token",
        json={**body, "grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        timeout=5,
    )
    assert old.status_code == 400 and old.json()["hint"] == "Token has been revoked"
    wrong = requests.post(
        emu.url + "/oauth2/access_token",
        json={
            **body,
            "client_secret": "x",
            "grant_type": "refresh_token",
            "refresh_token": new.json()["refresh_token"],
        },
        timeout=5,
    )
    assert wrong.status_code == 401
    # The browser flow: /oauth redirects to the redirect URI with a code and the state.
    r = requests.get(emu.url + "/oauth", params={"client_id": "cid", "state": "s1"}, allow_redirects=False, timeout=5)
    assert (
        r.status_code == 302
        and r.headers["Location"].startswith("https://example.com/cb?code=")
        and "state=s1" in r.headers["Location"]
    )
