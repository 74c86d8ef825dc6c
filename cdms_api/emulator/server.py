"""The in-process emulator: a store, faults, stats and a threaded waitress server around them."""

import threading

import waitress
from waitress import wasyncore

from . import edmx
from .accounts import Accounts
from .adfs import ClaimsSignIn
from .app import App, STSApp
from .faults import Faults, Stats
from .ntlm import NTLMAcceptor
from .routing import SERVICE_PATH
from .schema import VERSION_NUMBER_MODES
from .store import PARENTAL, Store


class Emulator:
    """A CRM 2011 OData endpoint on a real HTTP port; see docs/emulator.md."""

    def __init__(
        self,
        data_path=None,
        page_size=50,
        latency_ms=0,
        ntlm_users=None,
        cascade=PARENTAL,
        max_url_bytes=4096,
        max_query_bytes=2048,
        clock_offset=0.0,
        version_number="string",
        adfs_users=None,
        adfs_session_seconds=8 * 3600,
        adfs_expiry="redirect",
        resource_sts=False,
        lockout_threshold=5,
        lockout_window=1800.0,
        lockout_seconds=1800.0,
        metadata=None,
    ):
        schema = edmx.load(metadata) if metadata else None
        self.store = Store(data_path, cascade=cascade, clock_offset=clock_offset, schema=schema)
        self.default_version_number = version_number
        self.version_number = version_number
        self.faults = Faults()
        self.stats = Stats()
        self.page_size = page_size
        self.latency_ms = latency_ms
        # IIS request filtering in front of CRM 2011: maxUrl and maxQueryString, after percent-encoding.
        self.max_url_bytes = max_url_bytes
        self.max_query_bytes = max_query_bytes
        users = ntlm_users or adfs_users
        # The directory both kinds of auth check passwords against, with Active Directory's lockout.
        self.accounts = Accounts(users, lockout_threshold, lockout_window, lockout_seconds) if users else None
        self.ntlm = NTLMAcceptor(self.accounts) if ntlm_users else None
        # Claims sign-in through AD FS (an internet-facing deployment) instead of Windows auth: the
        # account STS (and the CRM's own resource STS) listen on their own ports.
        self.adfs = (
            ClaimsSignIn(self.accounts, adfs_session_seconds, adfs_expiry, resource_sts=resource_sts)
            if adfs_users
            else None
        )
        self.adfs_url = self.resource_sts_url = None
        # The service root path written into `__next` links (any case reaches the service).
        self.next_link_path = SERVICE_PATH
        self.base_url = None
        self._server = None
        self._thread = None

    @property
    def clock_offset(self):
        """Seconds the CRM's clock is ahead of this machine's (negative: behind)."""
        return self.store.clock_offset

    @clock_offset.setter
    def clock_offset(self, seconds):
        self.store.clock_offset = seconds

    @property
    def version_number(self):
        """How VersionNumber is sent: "string" (as OData v2 sends an Int64), "int" or "absent" (null)."""
        return self.store.version_number

    @version_number.setter
    def version_number(self, mode):
        if mode not in VERSION_NUMBER_MODES:
            raise ValueError(f"version_number must be one of {', '.join(VERSION_NUMBER_MODES)}, not {mode!r}")
        self.store.version_number = mode

    @property
    def service_root(self):
        """The OData service root URL."""
        return self.base_url + SERVICE_PATH

    def create_server(self, host="127.0.0.1", port=0, threads=16, adfs_port=0, resource_sts_port=0):
        """Bind the HTTP server (not yet serving), and the STS ports with `--auth adfs`; returns it."""
        self._server = waitress.create_server(
            App(self), host=host, port=port, threads=threads, ident="Microsoft-IIS/7.5", channel_timeout=60
        )
        self.base_url = f"http://{host}:{self._server.effective_port}"
        self.store.service_root = self.service_root
        if self.adfs is not None:
            self.adfs_url = self._listen(self.adfs.account_sts, host, adfs_port)
            if self.adfs.resource_sts is not None:
                self.resource_sts_url = self._listen(self.adfs.resource_sts, host, resource_sts_port)
            self.adfs.connect(self.base_url, self.adfs_url, self.resource_sts_url)
        return self._server

    def _listen(self, sts, host, port):
        # Same socket map and worker threads as the CRM's server: its run loop serves them all.
        server = waitress.create_server(
            STSApp(self, sts),
            map=self._server._map,
            _dispatcher=self._server.task_dispatcher,
            host=host,
            port=port,
            ident="Microsoft-IIS/7.5",
            channel_timeout=60,
        )
        return f"http://{host}:{server.effective_port}"

    def start(self, host="127.0.0.1", port=0, threads=16):
        """Serve in background threads; returns self."""
        server = self.create_server(host, port, threads)
        self._thread = threading.Thread(target=server.run, name="crm-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Release hanging responses, close every connection and stop serving."""
        self.faults.clear()
        if self._server is not None:
            self._server.task_dispatcher.shutdown(timeout=5)
            wasyncore.close_all(self._server._map)
            self._thread.join(timeout=5)
            self._server = None
        self.store.close()

    def reset(self):
        """Delete every record, disarm faults and forget served requests."""
        self.faults.clear()
        self.store.reset()
        self.stats.reset()
        self.clock_offset = 0.0
        self.version_number = self.default_version_number
        self.next_link_path = SERVICE_PATH
        if self.accounts is not None:
            self.accounts.reset()
