"""The requests of one AD FS sign-in, through one STS and through two, against the emulator.

    .venv/bin/python bench/sign_in.py

One STS: the CRM trusts the organisation's AD FS. Two: the CRM trusts its own STS, which
federates to the AD FS by home realm (`whr`). Prints each sign-in's requests (method and status)
and the OData request it was made for; `tests/client/test_adfs.py` asserts the same counts.
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cdms_api.adfs import SIGN_IN  # noqa: E402
from cdms_api.auth import make_auth  # noqa: E402
from cdms_api.client import CDMSClient  # noqa: E402
from cdms_api.counting import count_requests  # noqa: E402
from cdms_api.emulator import Emulator  # noqa: E402


def sign_in_once(users, resource_sts):
    """The (sign-in steps, OData requests) of one client's first read."""
    emu = Emulator(adfs_users=users, resource_sts=resource_sts).start()
    try:
        whr = emu.adfs.account_sts.identifier
        auth = make_auth("adfs", "CORP\\svc-datahub", "pw", adfs_url=f"{emu.adfs_url}/adfs/ls/", whr=whr)
        with CDMSClient(emu.base_url, auth=auth, timeout=5) as client, count_requests() as counter:
            list(client.list("Account"))
    finally:
        emu.stop()
    steps = [f"{r.method} {r.status}" for r in counter.requests if r.entity_set == SIGN_IN]
    return steps, counter.count - len(steps)


def main():
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as users:
        users.write("CORP:svc-datahub:pw\n")
        users.flush()
        for name, chain in (("one STS", False), ("two STSes", True)):
            steps, odata = sign_in_once(users.name, chain)
            print(f"{name}: {len(steps)} sign-in requests ({', '.join(steps)}), then {odata} OData request")


if __name__ == "__main__":
    main()
