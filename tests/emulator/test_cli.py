"""`python -m cdms_api.emulator` starts a seeded server and prints its URL; its clock may run off ours."""

import datetime as dt
import socket
import subprocess
import sys
from email.utils import parsedate_to_datetime
from pathlib import Path

import requests

from cdms_api.emulator import Emulator
from cdms_api.emulator.__main__ import parse_args
from cdms_api.odata import parse_date

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_command_line_serves_seeded_demo_data(tmp_path):
    port = free_port()
    args = ["--host", "127.0.0.1", "--port", str(port), "--seed-demo", "5", "--data", str(tmp_path / "d.sqlite3")]
    process = subprocess.Popen(
        [sys.executable, "-m", "cdms_api.emulator", *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/XRMServices/2011/OrganizationData.svc" in line
        url = line.split()[-1] + "/AccountSet"
        records = requests.get(url, headers={"Accept": "application/json"}, timeout=5).json()["d"]["results"]
        assert len(records) == 5
    finally:
        process.terminate()
        process.wait(5)
        process.stdout.close()


def test_clock_offset_shifts_the_stamps_and_the_date_header():
    assert parse_args(["--clock-offset", "-600"]).clock_offset == -600
    emu = Emulator(clock_offset=-600).start()
    try:
        now = dt.datetime.now(dt.UTC)
        record = requests.post(
            f"{emu.service_root}/AccountSet", json={"Name": "Acme"}, headers={"Accept": "application/json"}
        )
        created = parse_date(record.json()["d"]["CreatedOn"])
        date = parsedate_to_datetime(record.headers["Date"])
    finally:
        emu.stop()
    assert abs((created - now).total_seconds() + 600) <= 2
    assert abs((date - now).total_seconds() + 600) <= 2
