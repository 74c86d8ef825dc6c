"""Windows authentication as IIS does it: an NTLM handshake per TCP connection.

pyspnego's pure-Python NTLM acceptor plays the server; it reads credentials
(`DOMAIN:user:password` lines) from the file named by the NTLM_USER_FILE environment variable.
Once a connection has completed the handshake, later requests on it need no Authorization header
(connection-based auth over keep-alive), exactly what requests_ntlm expects.

Every AUTHENTICATE message is a password check of the account it names (read from the message):
it is recorded in the emulator's `Accounts`, and a locked account is refused whatever it sends,
as Active Directory refuses it.
"""

import base64
import os
import struct
import threading
from collections import OrderedDict

import spnego
from spnego.exceptions import SpnegoError

from .accounts import account_of

MAX_CONNECTIONS = 4096
SIGNATURE = b"NTLMSSP\0"
AUTHENTICATE = 3
UNICODE = 0x1


class NTLMAcceptor:
    """Per-connection NTLM handshakes for one emulator."""

    def __init__(self, accounts):
        # pyspnego only reads the credential store from the environment.
        os.environ["NTLM_USER_FILE"] = os.path.abspath(accounts.users_file)
        self.accounts = accounts
        self._lock = threading.Lock()
        self._contexts = OrderedDict()

    def check(self, environ):
        """None if the request may proceed, else a 401 WWW-Authenticate header list."""
        conn = (environ.get("REMOTE_ADDR"), environ.get("REMOTE_PORT"))
        header = environ.get("HTTP_AUTHORIZATION", "")
        with self._lock:
            context = self._contexts.get(conn)
        if not header:
            return None if context is not None and context.complete else self.challenge()
        scheme, _, token = header.partition(" ")
        if scheme not in ("NTLM", "Negotiate") or not token:
            return self.challenge()
        return self._step(conn, context, scheme, token)

    def _step(self, conn, context, scheme, token):
        if context is None or context.complete:
            context = spnego.server(protocol="ntlm")
        try:
            message = base64.b64decode(token)
        except ValueError:
            message = b""
        account = _authenticating(message)
        if account is not None and self.accounts.locked("\\".join(account)):
            self.accounts.record(account, False, "ntlm")
            self._forget(conn)
            return self.challenge()
        try:
            out = context.step(message)
        except (SpnegoError, ValueError):
            if account is not None:
                self.accounts.record(account, False, "ntlm")
            self._forget(conn)
            return self.challenge()
        if account is not None:
            self.accounts.record(account, True, "ntlm")
        self._remember(conn, context)
        if context.complete:
            return None
        return [("WWW-Authenticate", f"{scheme} {base64.b64encode(out).decode()}")]

    @staticmethod
    def challenge():
        """The headers of the first 401: both schemes IIS offers."""
        return [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]

    def _remember(self, conn, context):
        with self._lock:
            self._contexts[conn] = context
            self._contexts.move_to_end(conn)
            while len(self._contexts) > MAX_CONNECTIONS:
                self._contexts.popitem(last=False)

    def _forget(self, conn):
        with self._lock:
            self._contexts.pop(conn, None)


def _authenticating(message):
    """The (domain, user) an NTLM AUTHENTICATE message names, or None for any other message."""
    if len(message) < 64 or message[:8] != SIGNATURE or struct.unpack_from("<I", message, 8)[0] != AUTHENTICATE:
        return None
    flags = struct.unpack_from("<I", message, 60)[0]
    encoding = "utf-16-le" if flags & UNICODE else "latin-1"

    def field(at):
        length, _, offset = struct.unpack_from("<HHI", message, at)
        return message[offset : offset + length].decode(encoding, "replace")

    return account_of(f"{field(28)}\\{field(36)}")
