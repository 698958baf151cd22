"""An on-disk store of sweep results: one JSON record per point, written atomically.

A point is identified by its full configuration (method, problem and its
parameters, T, seeds, seed, hyperparameter overrides, workers ...) together with
the package version: :func:`point_key` hashes the canonical JSON of both. A
record is written to a temporary file in the same directory and renamed over its
final name, which is atomic on POSIX and Windows, so a reader sees either no
record or a complete one; an interrupted sweep loses at most the points that
were running. Records are plain JSON, never pickles.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .._version import __version__


def canonical(config: dict) -> str:
    """The configuration as canonical JSON (sorted keys, no spaces)."""
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=_plain)


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON-serializable: {value!r}")


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory, flushed
    to disk and renamed over ``path``: a reader sees the old file or the whole new one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def point_key(config: dict, version: str = __version__) -> str:
    return hashlib.sha256(canonical({"config": config, "version": version}).encode()).hexdigest()[:32]


class ResultStore:
    """Records under ``root``: ``<key>.json`` holding ``{"key", "version", "config", "result"}``."""

    def __init__(self, root, version: str = __version__):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.version = version

    def path(self, config: dict) -> Path:
        return self.root / f"{point_key(config, self.version)}.json"

    def __contains__(self, config: dict) -> bool:
        return self.get(config) is not None

    def get(self, config: dict):
        """The stored result of ``config``, or None (also for an unreadable file, which
        can only be left by a foreign writer: the store's own writes are atomic)."""
        p = self.path(config)
        try:
            with open(p) as f:
                record = json.load(f)
        except (OSError, ValueError):
            return None
        if record.get("config") != json.loads(canonical(config)) or record.get("version") != self.version:
            return None
        return record["result"]

    def put(self, config: dict, result: dict) -> Path:
        p = self.path(config)
        record = {"key": p.stem, "version": self.version, "config": json.loads(canonical(config)),
                  "result": result}
        write_atomically(p, json.dumps(record, default=_plain))
        return p

    def records(self) -> list[dict]:
        out = []
        for p in sorted(self.root.glob("[!.]*.json")):
            try:
                with open(p) as f:
                    out.append(json.load(f))
            except (OSError, ValueError):
                continue
        return out
