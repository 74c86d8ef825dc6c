"""Command line: `python -m cdms_api.emulator --host H --port P [--data FILE] [--seed-demo N] ...`."""

import argparse
import contextlib
import logging

from .adfs import SIGN_IN_PATH
from .edmx import MetadataError
from .schema import VERSION_NUMBER_MODES
from .server import Emulator


def parse_args(argv=None):
    """The command-line options."""
    parser = argparse.ArgumentParser(prog="python -m cdms_api.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--data", help="SQLite file kept across restarts (default: in memory)")
    parser.add_argument("--seed-demo", type=int, default=0, metavar="N", help="add N demo organisations if empty")
    parser.add_argument(
        "--seed-contacts", type=int, default=3, metavar="K", help="demo contacts per organisation (default: 3)"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="delay every service request")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--ntlm-users", metavar="FILE", help="require NTLM; lines DOMAIN:user:password")
    parser.add_argument(
        "--auth",
        choices=("none", "ntlm", "adfs"),
        help="none; ntlm (Windows auth, as on-premises); adfs (claims sign-in through AD FS, as an "
        "internet-facing deployment); ntlm and adfs need --users (default: ntlm with --ntlm-users, else none)",
    )
    parser.add_argument(
        "--users", metavar="FILE", help="the accounts of --auth ntlm|adfs: lines DOMAIN:user:password"
    )
    parser.add_argument(
        "--adfs-session-seconds",
        type=float,
        default=8 * 3600,
        help="how long a claims session lasts (default 8 h)",
    )
    parser.add_argument(
        "--adfs-expiry",
        choices=("redirect", "form"),
        default="redirect",
        help="how an ended claims session is answered: a 302 to the sign-in page, or a 200 HTML form",
    )
    parser.add_argument(
        "--adfs-port",
        type=int,
        default=0,
        help="with --auth adfs: the port of the organisation's AD FS, where the password is typed "
        "(default: any free)",
    )
    parser.add_argument(
        "--resource-sts-port",
        type=int,
        default=None,
        metavar="PORT",
        help="with --auth adfs: put the CRM's own STS in front on this port (0: any free); it federates to the "
        "AD FS by home realm (whr), as a two-STS deployment does",
    )
    parser.add_argument(
        "--lockout-threshold",
        type=int,
        default=5,
        help="failed sign-ins within --lockout-window that lock an account, as Active Directory does (default 5)",
    )
    parser.add_argument("--lockout-window", type=float, default=1800.0, help="seconds (default 1800)")
    parser.add_argument("--lockout-seconds", type=float, default=1800.0, help="a lock's length (default 1800)")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--metadata",
        metavar="FILE",
        action="append",
        help="serve the entities of this CRM 2011 $metadata (EDMX) document, e.g. one saved by "
        "`manage.py cdms_metadata --save FILE` (default: the shipped declarations of the 2016 CDMS); "
        "given more than once, the entities of every document (the first declaration of an entity wins)",
    )
    parser.add_argument(
        "--cascade",
        choices=("parental", "referential"),
        default="parental",
        help="deleting an account deletes its contacts (parental, CRM's default) or unlinks them",
    )
    parser.add_argument("--max-url-bytes", type=int, default=4096, help="IIS maxUrl (HTML 404 past it)")
    parser.add_argument("--max-query-bytes", type=int, default=2048, help="IIS maxQueryString (HTML 404 past it)")
    parser.add_argument(
        "--clock-offset",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="run the CRM's clock this far ahead of this machine's (negative: behind); it stamps "
        "CreatedOn/ModifiedOn and the Date header",
    )
    parser.add_argument(
        "--version-number",
        choices=VERSION_NUMBER_MODES,
        default="string",
        help="how VersionNumber (an Edm.Int64) is sent: string (as OData v2 does, the default), "
        "int (a JSON number) or absent (null, as some real deployments answer)",
    )
    args = parser.parse_args(argv)
    if args.auth is None:
        args.auth = "ntlm" if args.ntlm_users else "none"
    users = args.users or args.ntlm_users
    if args.auth != "none" and not users:
        parser.error(f"--auth {args.auth} needs --users FILE (lines DOMAIN:user:password)")
    args.ntlm_users = users if args.auth == "ntlm" else None
    args.adfs_users = users if args.auth == "adfs" else None
    return args


def main(argv=None):
    """Start the emulator and serve until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        emu = _emulator(args)
    except (OSError, MetadataError) as exc:
        documents = " ".join(args.metadata or [])
        raise SystemExit(f"python -m cdms_api.emulator: cannot serve --metadata {documents}: {exc}")
    if args.seed_demo and _empty(emu.store):
        seeding = logging.getLogger("cdms_api.emulator.seed")
        emu.store.seed_demo(args.seed_demo, contacts_per_account=args.seed_contacts, progress=seeding.info)
    server = emu.create_server(
        args.host, args.port, args.threads, adfs_port=args.adfs_port, resource_sts_port=args.resource_sts_port or 0
    )
    print(f"CRM 2011 emulator serving {emu.service_root}", flush=True)
    if emu.adfs is not None:
        if emu.resource_sts_url:
            print(f"  the CRM's own STS: {emu.resource_sts_url}{SIGN_IN_PATH}", flush=True)
        print(f"  AD FS sign-in: {emu.adfs_url}{SIGN_IN_PATH} (CDMS_ADFS_URL)", flush=True)
        print(f"  AD FS identifier: {emu.adfs.account_sts.identifier} (CDMS_ADFS_WHR)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


def _empty(store):
    """True when the store holds no organisations (or does not serve them)."""
    return "Account" in store.schema.entities and store.count("Account") == 0


def _emulator(args):
    return Emulator(
        args.data,
        page_size=args.page_size,
        latency_ms=args.latency_ms,
        ntlm_users=args.ntlm_users,
        adfs_users=args.adfs_users,
        adfs_session_seconds=args.adfs_session_seconds,
        adfs_expiry=args.adfs_expiry,
        resource_sts=args.resource_sts_port is not None,
        lockout_threshold=args.lockout_threshold,
        lockout_window=args.lockout_window,
        lockout_seconds=args.lockout_seconds,
        cascade=args.cascade,
        max_url_bytes=args.max_url_bytes,
        max_query_bytes=args.max_query_bytes,
        clock_offset=args.clock_offset,
        version_number=args.version_number,
        metadata=args.metadata,
    )


if __name__ == "__main__":
    main()
