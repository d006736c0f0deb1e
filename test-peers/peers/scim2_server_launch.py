"""Start scim2-server on a port the OS picks and announce where it listens.

scim2-server's CLI accepts ``--port 0`` but then reports port 0, so a test harness cannot
learn the real port from it. This launcher wraps the CLI's server factory, prints one line
``SCIM_BASE_URL=http://<host>:<port>/v2`` as soon as the socket is bound, and turns SIGTERM
and SIGINT into a clean shutdown (a background job of a non-interactive shell ignores
SIGINT, so the harness stops the server with SIGTERM by PID).

Usage (all other arguments go to scim2-server unchanged):

    .peers/scim2-server/bin/python test-peers/peers/scim2_server_launch.py \
        --hostname 127.0.0.1 --port 0 --bearer-token TOKEN

Checked against scim2-server 0.8.3, whose CLI module names its factory ``make_server``;
re-check that name when upgrading.
"""

import signal
import sys

from scim2_server.testserver import cli


def _shut_down(_signum, _frame):
    # serve_forever() leaves cleanly on KeyboardInterrupt.
    raise KeyboardInterrupt


def _announcing(make_server):
    def make_and_announce(host, port, app, *args, **kwargs):
        server = make_server(host, port, app, *args, **kwargs)
        bound_port = server.server_address[1]
        print(f"SCIM_BASE_URL=http://{host}:{bound_port}/v2", flush=True)
        return server

    return make_and_announce


if not hasattr(cli, "make_server"):
    sys.exit(
        "scim2_server_launch.py: scim2_server.testserver.cli has no make_server; "
        "this launcher needs updating for the installed scim2-server version"
    )

signal.signal(signal.SIGTERM, _shut_down)
signal.signal(signal.SIGINT, _shut_down)
cli.make_server = _announcing(cli.make_server)
sys.argv[0] = "scim2-server"
try:
    cli.main()
except KeyboardInterrupt:
    pass
