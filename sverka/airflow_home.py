"""The secrets every Airflow process of one Airflow home must share, made once per home.

The api-server signs and checks the execution API's tokens, the scheduler signs the
tokens it hands to tasks, the api-server and the log servers sign log requests, and
every process decrypts connections: each pair must hold the same key. Airflow generates
them only when it writes a new ``airflow.cfg``; Sverka's configuration lives in the
repository, so without this every process would draw a random key of its own and every
task would be refused ("Invalid auth token").

``airflow.cfg`` reads each secret through a ``*_cmd`` option::

    jwt_secret_cmd = python -m sverka.airflow_home jwt_secret

which prints the secret from ``$AIRFLOW_HOME/secrets/<name>``, creating the file (mode
0600, in a 0700 folder) the first time any process asks. Whoever starts Airflow — ``make
airflow``, ``make demo``, the tests, the benchmarks — gets the same keys for the same
home and nobody has to remember an environment variable. A key is never rewritten: a
new Fernet key would make the stored connections unreadable. In production the same
options are set from the environment or a secrets backend (docs/operations.md), which
take precedence over ``*_cmd``.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

# Name of the file under $AIRFLOW_HOME/secrets -> how to make a new value.
SECRETS: dict[str, Callable[[], str]] = {
    "jwt_secret": lambda: secrets.token_urlsafe(64),  # [api_auth] jwt_secret
    "api_secret_key": lambda: secrets.token_urlsafe(32),  # [api] secret_key
    # [core] fernet_key: the format Fernet wants (32 random bytes, URL-safe base64).
    "fernet_key": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode("ascii"),
}


def airflow_home() -> Path:
    """``$AIRFLOW_HOME``, or Airflow's own default when it is not set."""
    return Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow").expanduser()


def secret_path(name: str, home: Path | None = None) -> Path:
    if name not in SECRETS:
        raise KeyError(f"unknown Airflow secret {name!r}; known: {', '.join(SECRETS)}")
    return (home or airflow_home()) / "secrets" / name


def read_secret(name: str, home: Path | None = None) -> str:
    """The secret ``name`` of this Airflow home, created on first use.

    Several processes start at once (``airflow standalone``); the file is written under
    a private name and linked into place, so the first link wins and everyone reads it.
    """
    path = secret_path(name, home)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        draft = path.with_name(f".{name}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(SECRETS[name]())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process was first: its key is the home's key
        finally:
            draft.unlink()
    return path.read_text().strip()


def prepare(home: Path | None = None) -> list[Path]:
    """Make every secret of ``home`` that does not exist yet; the paths, for set-up logs."""
    for name in SECRETS:
        read_secret(name, home)
    return [secret_path(name, home) for name in SECRETS]


def main(argv: list[str]) -> int:
    if len(argv) == 1 and argv[0] in SECRETS:
        sys.stdout.write(read_secret(argv[0]))  # Airflow takes the output as the value
        return 0
    if argv == ["prepare"]:
        for path in prepare():
            print(f"Airflow secret: {path}")
        return 0
    print(f"usage: python -m sverka.airflow_home {{{'|'.join(SECRETS)}|prepare}}",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
