"""The emulator serves records over real HTTP through the shared fixtures."""

import requests

JSON = {"Accept": "application/json"}


def test_create_then_read_back_by_key(crm):
    created = requests.post(f"{crm.service_root}/AccountSet", json={"Name": "Acme"}, headers=JSON, timeout=5)
    key = created.json()["d"]["AccountId"]
    got = requests.get(f"{crm.service_root}/AccountSet(guid'{key}')", headers=JSON, timeout=5)
    assert got.json()["d"]["Name"] == "Acme"
