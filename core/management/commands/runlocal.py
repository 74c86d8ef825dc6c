"""`manage.py runlocal`: what `make run` runs; the service and, while the CRM is live, its emulator and follower.

It checks that its ports are free, migrates, then starts and supervises (`core.supervise`):

1. the CRM emulator (`python -m cdms_api.emulator`), seeded with demo data when its data
   file is empty, waited for until it answers on its port;
2. the change follower (`manage.py cdms_follow`), which copies the CRM into the local
   database and keeps it within a few seconds of it;
3. the API server (`manage.py runserver`), waited for likewise;

and prints the demo user, the URLs and the services it found (`cdms_services`). When one of
them fails to start, or stops later, it says which (its command, how it ended, the end of its
log), stops the others and exits with status 1. Ctrl-C stops them all.

It lives in core, beside `create_demo_user`, because it outlives the CRM: once the CRM is
retired (`migrator` no longer installed, `cdms_api` deleted) it starts the API server alone.
"""

import importlib.util
import os
import shutil
import signal
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.supervise import HOST, Process, ProcessFailed, Supervisor

SERVICE_ROOT = "/XRMServices/2011/OrganizationData.svc"


def crm_is_live():
    """Whether the sync layer and the emulator are still part of the project."""
    return apps.is_installed("migrator") and importlib.util.find_spec("cdms_api") is not None


class Command(BaseCommand):
    help = (
        "Run the service locally, as `make run` does: the CRM emulator seeded with demo data, the change "
        "follower and the API server (the server alone once the CRM is retired); stop all of them, "
        "naming the one that failed, when one fails to start or stops."
    )

    def add_arguments(self, parser):
        parser.add_argument("--api-port", type=int, default=8000, help="the API server's port (make: API_PORT)")
        parser.add_argument(
            "--emulator-port", type=int, default=8001, help="the CRM emulator's port (make: EMULATOR_PORT)"
        )
        parser.add_argument(
            "--demo-rows", type=int, default=200, help="demo organisations seeded into an empty emulator"
        )
        parser.add_argument("--max-staleness", default="10", help="CDMS_MAX_STALENESS of the server and follower")
        parser.add_argument("--run-dir", help="where logs and the emulator's data are kept (default: <repo>/.run)")
        parser.add_argument(
            "--ready-seconds", type=float, default=300.0, help="how long a server may take to answer on its port"
        )

    def handle(self, *args, **options):
        run_dir = Path(options["run_dir"] or settings.BASE_DIR / ".run")
        crm = crm_is_live()
        processes = self.processes(crm, run_dir, options)
        env = {}
        if crm:
            env = {
                "CDMS_BASE_URL": f"http://{HOST}:{options['emulator_port']}",
                "CDMS_MAX_STALENESS": options["max_staleness"],
            }
        supervisor = Supervisor(self.stdout, env)
        for stop_signal in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop_signal, _interrupt)
        try:
            self.run(supervisor, processes, crm, options)
        except ProcessFailed as failure:
            self.stderr.write(f"Error: {failure}")
            stopped = supervisor.stop()
            if stopped:
                self.stderr.write(f"Stopped {_and(stopped)}.")
            sys.exit(1)
        except KeyboardInterrupt:
            supervisor.stop()
            self.stdout.write("Stopped.")

    def run(self, supervisor, processes, crm, options):
        """Check the ports, migrate, start every process, print the banner and watch."""
        supervisor.check_ports(processes)
        _empty_metrics_directory()
        call_command("migrate", interactive=False)
        for process in processes:
            self.stdout.write(f"Starting {process.name}: {process.command()} (log: {process.log})")
            supervisor.start(process)
        supervisor.check_running()
        self.banner(processes, crm, options)
        supervisor.watch()

    def processes(self, crm, run_dir, options):
        """The processes to start, in order."""
        python, manage = sys.executable, str(settings.BASE_DIR / "manage.py")
        server = Process(
            "the API server",
            [python, manage, "runserver", "--noreload", f"{HOST}:{options['api_port']}"],
            run_dir / "server.log",
            port=options["api_port"],
            port_setting="API_PORT",
            echo="always",
            ready_seconds=options["ready_seconds"],
        )
        if not crm:
            return [server]
        emulator = Process(
            "the CRM emulator",
            [python, "-m", "cdms_api.emulator", "--host", HOST, "--port", str(options["emulator_port"])]
            + ["--data", str(run_dir / "emulator.sqlite3"), "--seed-demo", str(options["demo_rows"])],
            run_dir / "emulator.log",
            port=options["emulator_port"],
            port_setting="EMULATOR_PORT",
            echo="startup",
            ready_seconds=options["ready_seconds"],
        )
        follow = [python, manage, "cdms_follow", "--sweep-interval", "30"]
        follower = Process("the change follower", follow, run_dir / "follower.log")
        return [emulator, follower, server]

    def banner(self, processes, crm, options):
        """Print the demo user, each process and the services found."""
        base = f"http://{HOST}:{options['api_port']}"
        self.stdout.write("")
        call_command("create_demo_user", password="demo", base_url=base)
        by_name = {process.name: process for process in processes}
        if crm:
            emulator, follower = by_name["the CRM emulator"], by_name["the change follower"]
            self.stdout.write(
                f"  CRM emulator: http://{HOST}:{options['emulator_port']}{SERVICE_ROOT} "
                f"(pid {emulator.popen.pid}, log {emulator.log})"
            )
            self.stdout.write(
                f"  Change follower: manage.py cdms_follow (pid {follower.popen.pid}, log {follower.log}); "
                f"reads lag the CRM by at most {options['max_staleness']} s"
            )
            call_command("cdms_services")
        server = by_name["the API server"]
        self.stdout.write(f"  API server: {base}/ (pid {server.popen.pid}, log {server.log})")
        self.stdout.write("If one of them stops, all stop, naming it. Press Ctrl-C to stop.\n")


def _empty_metrics_directory():
    """Forget the metrics of an earlier run (`/metrics` adds up every file in the directory)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and Path(directory).is_dir():
        for path in Path(directory).iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _and(names):
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
