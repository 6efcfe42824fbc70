"""The download cache: files fetched once with urllib, written atomically, never fetched again."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from automl.exceptions import DatasetError

__all__ = ["cache_root", "fetch", "is_url", "url_cache_path"]

_TIMEOUT_S = 60
_URL_SCHEMES = ("http://", "https://", "ftp://", "file://")


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """The dataset cache: ``cache_dir`` if given, else ``$AUTOML_CACHE``, else ``~/.cache/automl``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("AUTOML_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "automl"


def is_url(text: str) -> bool:
    return text.lower().startswith(_URL_SCHEMES)


def url_cache_path(url: str, cache_dir: str | Path | None = None) -> Path:
    """Where a URL's file is cached: ``<cache>/urls/<sha256(url)[:16]>/<file name>``.

    The hash keeps two URLs that end in the same file name apart; the name keeps the extension that tells
    the format.
    """
    name = Path(urllib.parse.urlparse(url).path).name or "download"
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return cache_root(cache_dir) / "urls" / digest / name


def fetch(url: str, destination: Path, *, sha256: str | None = None) -> Path:
    """Return ``destination``, downloading ``url`` into it first unless it already exists.

    An existing file is trusted as is (so a user may place it there by hand, and no network is touched).
    A download goes to a temporary file in the same folder and is renamed into place only when complete
    (and, with ``sha256``, verified), so an interrupted run never leaves a truncated file in the cache.

    Raises:
        DatasetError: the download failed or the checksum differs; the message names the URL and the path
            where the file can be placed by hand.
    """
    if destination.is_file():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
    )
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise DatasetError(
                f"download of {url} is corrupt (sha256 {digest.hexdigest()[:12]}…, expected {sha256[:12]}…); "
                f"run again, or place the right file at {destination}"
            )
        os.replace(temporary, destination)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise DatasetError(
            f"could not download {url} ({reason}); check the network, or download the file yourself "
            f"and place it at {destination}"
        ) from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return destination
