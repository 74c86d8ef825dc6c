"""A CRM 2011 OData (OrganizationData.svc) emulator: a real HTTP server over a SQLite store.

`Emulator(...).start()` serves in-process (tests); `python -m cdms_api.emulator` serves from the
command line (`make run`). See docs/emulator.md.
"""

from .server import Emulator

__all__ = ["Emulator"]
