"""What the tests that run a real `airflow standalone` share: free ports, waiting, and a
headless Chromium that looks at the Airflow UI as a signed-in person does.

The browser is driven over the DevTools protocol (``websockets``, already installed with
Airflow): the session cookie Airflow's UI reads (``_token``) is set before the page loads,
text is typed as key input, so the UI's React form sees it as typed, and a check fails
with a screenshot of what the page showed beside the test's Airflow home.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait(what: str, probe: Callable[[], Any], timeout: float,
         alive: Callable[[], None] = lambda: None, every: float = 1.0) -> Any:
    """``probe()``'s first truthy result; connection and lookup errors count as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive()
        with suppress(OSError, urllib.error.URLError, KeyError, ValueError):
            result = probe()
            if result:
                return result
        time.sleep(every)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


class Page:
    """One browser tab, signed in to one Airflow api-server."""

    def __init__(self, ws: Any, failures: Path) -> None:
        self._ws = ws
        self._ids = iter(range(1, 10**9))
        self._failures = failures

    def send(self, method: str, **params: Any) -> dict:
        number = next(self._ids)
        self._ws.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv(timeout=60))
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        return self.send("Runtime.evaluate", expression=expression,
                         returnByValue=True)["result"].get("value")

    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''") or "")

    def open(self, url: str, shows: str, timeout: float = 90) -> None:
        """Loads ``url`` and waits until the page's text holds ``shows``."""
        self.send("Page.navigate", url=url)
        self.until(f"{url} to show {shows!r}", lambda: shows in self.text(), timeout)

    def until(self, what: str, probe: Callable[[], Any], timeout: float = 60) -> Any:
        try:
            return wait(what, probe, timeout, every=0.5)
        except TimeoutError:
            picture = self._failures / f"failed-{int(time.time())}.png"
            self.screenshot(picture)
            raise AssertionError(f"{what} (page in {picture}):\n{self.text()[:2000]}") from None

    def type_into(self, selector: str, text: str) -> None:
        """Focuses the field and types ``text`` as key input."""
        self.until(f"{selector} on the page",
                   lambda: self.evaluate(f"!!document.querySelector({json.dumps(selector)})"))
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)

    def click(self, selector: str) -> None:
        """Clicks the element once it is enabled."""
        found = f"document.querySelector({json.dumps(selector)})"
        self.until(f"{selector} enabled", lambda: self.evaluate(f"!!{found} && !{found}.disabled"))
        self.evaluate(f"{found}.click()")

    def screenshot(self, out: Path) -> Path:
        shot = self.send("Page.captureScreenshot", format="png")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        return out


@contextmanager
def browser(base_url: str, token: str, home: Path) -> Iterator[Page]:
    """A headless Chromium tab signed in to ``base_url`` with ``token``."""
    binary = shutil.which("chromium")
    if binary is None:
        raise RuntimeError("chromium is not installed (`make test` installs it)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1440,1400", f"--remote-debugging-port={port}",
         f"--user-data-dir={home / f'chromium-{port}'}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    from websockets.sync.client import connect

    try:
        targets = wait("chromium", lambda: json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{port}/json/list", timeout=5).read()), 60)
        target = next(t for t in targets if t["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=None) as ws:
            page = Page(ws, home)
            page.send("Network.enable")
            page.send("Network.setCookie", name="_token", value=token, url=base_url, path="/")
            page.send("Page.enable")
            yield page
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
