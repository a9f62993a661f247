"""The per-home Airflow secrets: made once, private, never rewritten, the same for all."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from sverka import airflow_home


def test_a_secret_is_made_once_private_and_kept(tmp_path: Path) -> None:
    first = airflow_home.read_secret("jwt_secret", tmp_path)
    path = airflow_home.secret_path("jwt_secret", tmp_path)
    assert len(first) >= 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert airflow_home.read_secret("jwt_secret", tmp_path) == first
    assert sorted(p.name for p in path.parent.iterdir()) == ["jwt_secret"]  # no drafts left


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    with ProcessPoolExecutor(4) as pool:
        keys = set(pool.map(airflow_home.read_secret, ["fernet_key"] * 8, [tmp_path] * 8))
    assert len(keys) == 1


def test_airflow_reads_the_homes_keys_through_airflow_cfg(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(tmp_path),
                "AIRFLOW_CONFIG": str(Path(__file__).resolve().parents[2] / "airflow.cfg"),
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})
    code = ("from airflow.configuration import conf;"
            "print(conf.get('api_auth', 'jwt_secret'), conf.get('api', 'secret_key'),"
            " conf.get('core', 'fernet_key'))")
    shown = [subprocess.run([sys.executable, "-c", code], env=env, check=True,
                            capture_output=True, text=True).stdout.split()
             for _ in range(2)]
    assert shown[0] == shown[1] == [airflow_home.read_secret(n, tmp_path)
                                    for n in ("jwt_secret", "api_secret_key", "fernet_key")]
