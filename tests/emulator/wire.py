"""Small HTTP helpers for talking to the emulator as a CRM 2011 client would."""

import requests

JSON = {"Accept": "application/json"}
TIMEOUT = 10


def get(crm, path, params=None, headers=None):
    """GET a path below the service root (JSON unless `headers` say otherwise)."""
    return requests.get(f"{crm.service_root}/{path}", params=params, headers=headers or JSON, timeout=TIMEOUT)


def send(crm, method, path, body=None, headers=None):
    """Any other verb below the service root, with a JSON body."""
    url = f"{crm.service_root}/{path}"
    return requests.request(method, url, json=body, headers={**JSON, **(headers or {})}, timeout=TIMEOUT)


def results(crm, path, params=None):
    """The `results` of one collection page (asserting a 200)."""
    response = get(crm, path, params)
    assert response.status_code == 200, response.text
    return response.json()["d"]["results"]


def all_pages(url):
    """Every record of a collection, following `__next`; also returns the page count."""
    records, pages = [], 0
    while url:
        page = requests.get(url, headers=JSON, timeout=TIMEOUT).json()["d"]
        records.extend(page["results"])
        url, pages = page.get("__next"), pages + 1
    return records, pages


def assert_crm_error(response, status, code):
    """`response` is a CRM error body with this status and code."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]["lang"] == "en-US"
    assert error["message"]["value"]
    return error["message"]["value"]


def key_path(entity_set, key):
    """`AccountSet(guid'...')`."""
    return f"{entity_set}(guid'{key}')"
