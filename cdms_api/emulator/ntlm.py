"""Windows authentication as IIS does it: an NTLM handshake per TCP connection.

pyspnego's pure-Python NTLM acceptor plays the server; it reads credentials
(`DOMAIN:user:password` lines) from the file named by the NTLM_USER_FILE environment variable.
Once a connection has completed the handshake, later requests on it need no Authorization header
(connection-based auth over keep-alive), exactly what requests_ntlm expects.
"""

import base64
import os
import threading
from collections import OrderedDict

import spnego
from spnego.exceptions import SpnegoError

MAX_CONNECTIONS = 4096


class NTLMAcceptor:
    """Per-connection NTLM handshakes for one emulator."""

    def __init__(self, users_file):
        # pyspnego only reads the credential store from the environment.
        os.environ["NTLM_USER_FILE"] = os.path.abspath(users_file)
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
            out = context.step(base64.b64decode(token))
        except (SpnegoError, ValueError):
            self._forget(conn)
            return self.challenge()
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
