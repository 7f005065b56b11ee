"""A weights server on 127.0.0.1 and a fresh cache: the pretrained tests touch no internet.

The server answers GET <host>/<path> (the KERAS_CLASSICS_WEIGHTS_MIRROR layout) from the files
a test registers, each with a behaviour: "ok", "truncate" (announces the whole length, sends
half and drops the connection), "hang" (never answers) or "slow" (sends in small pieces);
anything unregistered is a 404. It counts the requests of each path.
"""

import collections
import http.server
import os
import socketserver
import sys
import threading
import time
import urllib.parse

import pytest

# The conversion tests' helpers (random BN statistics, the parity measure), shared rather than
# written again: tests/convert/convert_parity.py.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "convert"))


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        path = urllib.parse.urlsplit(self.path).path.lstrip("/")
        server.requests[path] += 1
        if path not in server.files:
            self.send_error(404, "Not Found")
            return
        data, behaviour = server.files[path]
        if behaviour == "hang":
            server.release.wait(30)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if behaviour == "truncate":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection drops mid-file
            return
        step = 1 << 16 if behaviour == "slow" else len(data)
        for start in range(0, len(data), step):
            self.wfile.write(data[start : start + step])
            if behaviour == "slow":
                time.sleep(0.01)

    def log_message(self, *args):  # quiet
        pass


class WeightsServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = {}
        self.requests = collections.Counter()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def serve(self, upstream_url, data, behaviour="ok"):
        """Serves `data` where the mirror looks for `upstream_url`."""
        parts = urllib.parse.urlsplit(upstream_url)
        self.files[f"{parts.netloc}{parts.path}"] = (data, behaviour)

    def count(self, upstream_url):
        parts = urllib.parse.urlsplit(upstream_url)
        return self.requests[f"{parts.netloc}{parts.path}"]

    def stop(self):
        self.release.set()
        self.shutdown()
        self.server_close()


@pytest.fixture
def server():
    s = WeightsServer()
    yield s
    if s.thread.is_alive():
        s.stop()


@pytest.fixture
def cache(tmp_path, monkeypatch, server):
    """An empty Keras cache, the mirror pointing at the test server, a short timeout."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setenv("KERAS_CLASSICS_WEIGHTS_MIRROR", server.url)
    monkeypatch.setenv("KERAS_CLASSICS_DOWNLOAD_TIMEOUT", "2")
    monkeypatch.delenv("KERAS_CLASSICS_OFFLINE", raising=False)
    return home / "models" / "keras_classics"


def files_under(path):
    """Every file below `path` but the lock files (which stay, empty, by design)."""
    found = []
    for root, _, names in os.walk(path):
        found += [os.path.join(root, n) for n in names if not root.endswith("locks")]
    return sorted(found)
