"""Upstream checkpoint files into the cache: mirror, offline mode, hashes, atomic writes, a lock.

The cache is Keras' (`$KERAS_HOME/models/keras_classics/`, KERAS_HOME defaulting to ~/.keras):
  downloads/<host>/<path>         the upstream file as published (the mirror layout, so that a
                                  cache's downloads/ folder can serve as another machine's
                                  KERAS_CLASSICS_WEIGHTS_MIRROR)
  downloads/<host>/<path>.sha256  its sha256, recorded at first download where upstream
                                  publishes none, checked on every later read
  <model>/<card file>.weights.h5  the converted weights, with a .json record beside them
  locks/                          one lock file per entry (two processes, one download)

A download streams into a temporary file beside its final name, hashed as it arrives, and is
renamed only once its length and hash are right: an interrupted, truncated or tampered
transfer leaves nothing under the final name.
"""

import contextlib
import hashlib
import http.client
import os
import shutil
import ssl
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from keras_classics.records.fileio import write_text

MIRROR_VARIABLE = "KERAS_CLASSICS_WEIGHTS_MIRROR"
OFFLINE_VARIABLE = "KERAS_CLASSICS_OFFLINE"
TIMEOUT_VARIABLE = "KERAS_CLASSICS_DOWNLOAD_TIMEOUT"
DEFAULT_TIMEOUT = 60.0  # seconds without a byte before a download is given up
CHUNK = 1 << 20


class DownloadError(OSError):
    """A checkpoint could not be fetched; the message names the URL, where the file may be
    placed by hand, and the mirror variable."""


class HashMismatchError(ValueError):
    """A file's hash is not the published (or recorded) one; the file was deleted."""


def cache_dir():
    """The package's cache folder in Keras' cache: $KERAS_HOME/models/keras_classics."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models", "keras_classics")


def download_path(url):
    """Where the file of `url` lives in the cache (and where it can be placed by hand)."""
    parts = urllib.parse.urlsplit(url)
    return os.path.join(cache_dir(), "downloads", parts.netloc, *parts.path.lstrip("/").split("/"))


def offline():
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def source_of(url):
    """(kind, location) to read `url` from: ("url", the mirror's or upstream's URL) or
    ("file", a path under a local mirror directory). The mirror keeps host and path."""
    mirror = os.environ.get(MIRROR_VARIABLE, "").strip()
    if not mirror:
        return "url", url
    parts = urllib.parse.urlsplit(url)
    below = f"{parts.netloc}/{parts.path.lstrip('/')}"
    if mirror.startswith(("http://", "https://")):
        return "url", mirror.rstrip("/") + "/" + below
    if mirror.startswith("file://"):
        mirror = urllib.parse.urlsplit(mirror).path
    return "file", os.path.join(mirror, *below.split("/"))


@contextlib.contextmanager
def locked(name):
    """An exclusive lock on `name` for this process (POSIX flock; elsewhere none, and the
    atomic renames still leave one valid file)."""
    directory = os.path.join(cache_dir(), "locks")
    os.makedirs(directory, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(os.path.join(directory, name.replace("/", "_") + ".lock"), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def file_hash(path, algorithm="sha256"):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_hash(path, url, algorithm, expected):
    """Deletes `path` and raises HashMismatchError unless its hash starts with `expected`
    (torchvision publishes an 8-digit sha256 prefix in its file names, as torch.hub checks)."""
    received = file_hash(path, algorithm)
    if not received.startswith(expected.lower()):
        os.remove(path)
        raise HashMismatchError(
            f"The file of {url} has {algorithm} {received}, expected {expected}"
            f"{' (a prefix)' if len(expected) < len(received) else ''}; it was deleted. "
            "Fetch it again; if it fails again, the mirror or the upstream file changed."
        )
    return received


def fetch(url, hashes, progress=True):
    """The cache path of `url`'s file, downloading it first if needed, verified.

    Args:
      url: the upstream URL (the cache and any mirror keep its host and path).
      hashes: {algorithm: expected hex digest or prefix} published upstream; empty when
        upstream publishes none: then the sha256 of the first download is recorded beside the
        file and every later read is checked against it.
    Raises:
      DownloadError: offline, unreachable, refused, timed out or truncated; nothing is left.
      HashMismatchError: the file is not the published one; it was deleted.
    """
    path = download_path(url)
    with locked(os.path.relpath(path, cache_dir())):
        if not os.path.isfile(path):
            _transfer(url, path, progress)
        for algorithm, expected in hashes.items():
            check_hash(path, url, algorithm, expected)
        recorded = path + ".sha256"
        if not hashes and os.path.isfile(recorded):  # trust on first use, then check
            with open(recorded) as f:
                check_hash(path, url, "sha256", f.read().strip())
        elif not hashes:
            write_text(recorded, file_hash(path) + "\n")
    return path


def _hint(url):
    return (
        f"Place the file by hand at {download_path(url)}, or set {MIRROR_VARIABLE} to a URL "
        "or a directory that holds it as <host>/<path> (e.g. "
        f"$MIRROR/{urllib.parse.urlsplit(url).netloc}{urllib.parse.urlsplit(url).path})."
    )


def _transfer(url, path, progress):
    kind, location = source_of(url)
    if kind == "url" and offline():
        raise DownloadError(
            f"{url} is not in the cache and {OFFLINE_VARIABLE}=1 forbids the network. " + _hint(url)
        )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as out:
            if kind == "file":
                _copy_local(url, location, out)
            else:
                _download(url, location, out, progress)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _copy_local(url, location, out):
    if not os.path.isfile(location):
        raise DownloadError(f"{url}: the mirror directory has no {location}. " + _hint(url))
    with open(location, "rb") as f:
        shutil.copyfileobj(f, out, CHUNK)


def _timeout():
    text = os.environ.get(TIMEOUT_VARIABLE)
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"{TIMEOUT_VARIABLE}={text!r} is invalid; accepted: seconds > 0.")
    return value


def _named(url, location):
    """The upstream URL, and the mirror's where one answers for it."""
    return url if location == url else f"{url} (from the mirror: {location})"


def _download(url, location, out, progress):
    request = urllib.request.Request(location, headers={"User-Agent": "keras_classics"})
    try:
        with urllib.request.urlopen(request, timeout=_timeout()) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length is not None else None  # chunked: unknown
            bar = _progress_bar(location, expected) if progress else None
            received = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(received)
    except urllib.error.HTTPError as err:
        raise DownloadError(
            f"{_named(url, location)} answered HTTP {err.code} {err.reason}. " + _hint(url)
        ) from None
    except (TimeoutError, urllib.error.URLError, ssl.SSLError, ConnectionError) as err:
        reason = getattr(err, "reason", err)
        raise DownloadError(
            f"{_named(url, location)} could not be read: {reason}. " + _hint(url)
        ) from err
    except http.client.HTTPException as err:  # the server dropped the connection mid-file
        raise DownloadError(f"{_named(url, location)} ended early: {err!r}. " + _hint(url)) from err
    if expected is not None and received != expected:
        raise DownloadError(
            f"{_named(url, location)} gave {received} of {expected} bytes: truncated. " + _hint(url)
        )


def _progress_bar(location, total):
    """A one-line progress count on a terminal; elsewhere (logs, CI) the line above it only.
    Written here rather than with Keras' Progbar: this module sits below Keras."""
    print(f"Downloading {location}", file=sys.stderr)
    return _Progress(total) if sys.stderr.isatty() else None


class _Progress:
    def __init__(self, total):
        self.total = total

    def update(self, received):
        shown = f"{received / 1e6:.1f} MB"
        if self.total:
            shown += f" of {self.total / 1e6:.1f} MB ({100 * received / self.total:.0f}%)"
        end = "\n" if self.total and received >= self.total else ""
        print(f"\r  {shown}", end=end, file=sys.stderr, flush=True)
