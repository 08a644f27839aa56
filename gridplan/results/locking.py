"""One writer per output file, and no debris from writers that died.

A writer of ``dir/name`` holds an exclusive ``flock`` on ``dir/.name.lock`` for as long as it
writes, and writes its data to ``dir/.name.XXXXXXXX.part`` (renamed to ``name`` when complete).
So:

- a second writer of the same path (another ``gridplan`` run with the same ``--out``) fails at
  once with a one-line error naming the running writer, instead of one run silently replacing
  the other's file;
- a ``.part`` file whose target's lock nobody holds belongs to a writer that died (SIGKILL,
  power loss; the kernel drops a dead process's locks), so the next writer into that folder
  removes it and its lock file. A live writer's files are never touched: its lock is held.

``flock`` works on local file systems and on NFS (Linux emulates it with byte-range locks) and
Lustre mounted with ``flock``. Where the file system refuses locks (``ENOLCK``, ``EOPNOTSUPP``),
gridplan writes without one and cleans nothing: concurrent writers of one path then race, and
the last rename wins (docs/input-validation.md says so).
"""

from __future__ import annotations

import errno
import os
import re
import socket
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # not on POSIX: no locks
    fcntl = None  # type: ignore[assignment]

from gridplan.errors import CaseError

#: temporaries ``.<target>.<8 chars of tempfile's alphabet>.part`` (tempfile.mkstemp names)
PART_RE = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.part$")
LOCK_RE = re.compile(r"^\.(?P<target>.+)\.lock$")
_UNSUPPORTED = {errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS}
_RETRY_S = 1.0  # a cleaner holds another target's lock for milliseconds


def lock_path(target: Path) -> Path:
    """The lock file of ``target``: ``.<name>.lock`` beside it."""
    return target.with_name(f".{target.name}.lock")


def part_prefix(target: Path) -> str:
    """Prefix of ``target``'s temporaries (``tempfile.mkstemp(prefix=..., suffix=".part")``)."""
    return f".{target.name}."


class TargetLock:
    """Exclusive lock on writing ``target``; :meth:`release` frees it and removes the lock file.

    Raises :class:`~gridplan.errors.CaseError` when another live writer holds it.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = lock_path(target)
        self.fd: int | None = None
        if fcntl is None:
            return
        deadline = time.monotonic() + _RETRY_S
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_holder(fd)
                os.close(fd)
                if exc.errno in _UNSUPPORTED:
                    return  # no locks on this file system: write without one
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                raise CaseError(
                    f"{target}: another gridplan run is writing this file ({holder}); "
                    "wait for it to finish or write to another path",
                    hint=f"{self.path} names the writer; a run that died holds no lock",
                ) from None
            if _same_file(fd, self.path):
                break
            os.close(fd)  # the lock file was removed meanwhile (its writer finished): again
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {_now()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        """Remove the lock file, then drop the lock (in this order: see module docstring)."""
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)
            self.fd = None


def clean_stale(folder: Path, own: Path | None = None) -> list[Path]:
    """Remove the ``.part`` temporaries and lock files of writers that died, in ``folder``.

    ``own`` is a target whose lock the caller holds: every temporary of it is stale. For every
    other target, its temporaries go only if its lock file exists and nobody holds the lock.
    Returns the files removed.
    """
    if fcntl is None:
        return []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    parts: dict[str, list[str]] = {}
    locks: set[str] = set()
    for name in names:
        m = PART_RE.match(name)
        if m:
            parts.setdefault(m["target"], []).append(name)
        m = LOCK_RE.match(name)
        if m:
            locks.add(m["target"])
    removed: list[Path] = []
    for target in sorted(set(parts) | locks):
        if own is not None and target == own.name:
            for name in parts.get(target, []):
                removed += _unlink(folder / name)
            continue
        if target not in locks:
            continue  # no lock file: not written by this gridplan, or no longer running
        lock = folder / f".{target}.lock"
        try:
            fd = os.open(lock, os.O_RDWR)  # never created here
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live writer (or no locks here): leave its files alone
            if not _same_file(fd, lock):
                continue
            for name in parts.get(target, []):
                removed += _unlink(folder / name)
            removed += _unlink(lock)
        finally:
            os.close(fd)
    return removed


def _unlink(path: Path) -> list[Path]:
    try:
        path.unlink()
    except OSError:
        return []
    return [path]


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    fst = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (fst.st_dev, fst.st_ino)


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "a writer holds its lock"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
