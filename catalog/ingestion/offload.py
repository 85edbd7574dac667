"""Descriptor processing in a helper process, so that a large refresh keeps both cores busy.

The refresh's own process reads files and writes the database; a helper started from the same
interpreter (``python -m catalog.ingestion.offload``) parses, validates and relates the files it is
sent (:func:`process_file`, pure, no Django). Files are answered in the order they were sent.

- A file whose placeholders (``$text``, ``$json``, ``$yaml``) need a read is handed back: only the
  caller holds the source reader, so it processes that file itself.
- Any failure of the helper (it cannot start, crashes, is killed, breaks the pipe) makes ``result``
  answer None, and the caller processes that file and the rest itself: only the second core is lost.
- A subprocess rather than ``multiprocessing``: a Celery prefork child is daemonic and may not start
  multiprocessing children, and a fresh interpreter shares no database connection with its parent.

Frames on the pipes are a 4-byte length and a pickle. Both ends are this module, run by the same user;
the helper only ever unpickles what its parent sent, and the parent only what its own helper sent.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import IO, Any

from .descriptor import FileResult, process_file
from .rows import EntityRow, prepare
from .validation import EXTENSION_KINDS

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Modules whose import registers the kinds other apps add (validation.register_kind), comma-separated.
KIND_MODULES_ENV = "CALLBOARD_KIND_MODULES"
_LENGTH = struct.Struct(">I")

#: A processed file and, per entity, its stored row.
Answer = tuple[FileResult, list[EntityRow]]


class _CallerMustRead(Exception):
    """A placeholder needs the source reader, which only the calling process has."""


def _needs_caller(target: str) -> str:
    raise _CallerMustRead(target)


def _write_frame(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> Any:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError("the other end closed the pipe")
    (length,) = _LENGTH.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        raise EOFError("the other end closed the pipe mid-frame")
    return pickle.loads(data)  # noqa: S301 - written by the other end of our own pipe (see module docstring)


def two_cores() -> bool:
    """True when this process may run on more than one CPU (a helper would only compete otherwise)."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # pragma: no cover - not Linux
        return (os.cpu_count() or 1) > 1


class ParseHelper:
    """The calling side: ``submit`` files, then take their results in the same order with ``result``."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._pending: deque[str] = deque()
        self._outbox: queue.Queue = queue.Queue()
        self._sender: threading.Thread | None = None
        self.broken = False

    @property
    def running(self) -> bool:
        return self._process is not None and not self.broken

    def start(self) -> bool:
        if self._process is not None or self.broken:
            return self.running
        path = [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), KIND_MODULES_ENV: _kind_modules()}
        try:
            self._process = subprocess.Popen(  # this interpreter running this module
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=PROJECT_ROOT,
                env=env,
            )
        except OSError as exc:
            self._give_up(f"could not start: {exc}")
            return False
        # Sending happens on a thread: a write into a full pipe must not stall the database writes.
        self._sender = threading.Thread(target=self._send, args=(self._process.stdin,), daemon=True)
        self._sender.start()
        return True

    def _send(self, stream: IO[bytes]) -> None:
        while (message := self._outbox.get()) is not None:
            try:
                _write_frame(stream, message)
            except (OSError, ValueError):  # the helper died; ``result`` notices and gives up
                return

    def submit(
        self, file: str, content: bytes, max_bytes: int, forced: dict[str, str], defaults: dict[str, str]
    ) -> bool:
        """Queue a file for the helper; False when it is not usable (then process the file yourself).

        ``forced`` and ``defaults`` are the location annotations its entities get (rows.apply_annotations).
        """
        if not self.running:
            return False
        self._outbox.put((file, content, max_bytes, forced, defaults))
        self._pending.append(file)
        return True

    def result(self, file: str) -> Answer | None:
        """The result for the oldest submitted file (which must be ``file``); None: process it yourself.

        The entities come annotated, each with its row (``rows.prepare``).
        """
        if not self._pending or self._pending[0] != file:
            raise RuntimeError(f"{file} was not the next file submitted")
        self._pending.popleft()
        if self.broken:
            return None
        try:
            status, payload = _read_frame(self._process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            self._give_up(f"read failed: {exc}")
            return None
        if status == "ok":
            return payload
        if status == "failed":
            logger.warning("Parse helper could not process %s: %s", file, payload)
        return None

    def close(self) -> int:
        """Stop the helper; returns its peak RSS in kB (0 when it never ran)."""
        process, self._process = self._process, None
        if process is None:
            return 0
        if self._pending:  # abandoned mid-walk: its remaining answers are not wanted
            process.kill()
        self._outbox.put(None)
        if self._sender is not None:
            self._sender.join()
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        try:
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:  # reaped already
            return 0
        return usage.ru_maxrss

    def _give_up(self, reason: str) -> None:
        if not self.broken:
            logger.warning("Parse helper stopped (%s); this refresh continues in one process", reason)
        self.broken = True
        if self._process is not None:
            self._process.kill()

    def __enter__(self) -> ParseHelper:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _answer(file: str, content: bytes, max_bytes: int, forced: dict, defaults: dict) -> tuple[str, Any]:
    try:
        result = process_file(content, file=file, read_text=_needs_caller, max_bytes=max_bytes)
        return "ok", (result, prepare(result.entities, forced, defaults))
    except _CallerMustRead:
        return "local", None
    except Exception as exc:  # reported to the caller, which processes the file itself
        return "failed", f"{type(exc).__name__}: {exc}"


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's loop: process files until the caller closes the pipe; a thread writes the answers."""
    outbox: queue.Queue = queue.Queue()

    def send() -> None:
        broken = False
        while (message := outbox.get()) is not None:
            if broken:
                continue
            try:
                _write_frame(answers, message)
            except OSError:  # the caller stopped reading; keep draining until told to stop
                broken = True

    writer = threading.Thread(target=send, daemon=True)
    writer.start()
    while True:
        try:
            request = _read_frame(requests)
        except EOFError:
            break
        outbox.put(_answer(*request))
    outbox.put(None)
    writer.join()


def _kind_modules() -> str:
    return ",".join(sorted({extension.module for extension in EXTENSION_KINDS.values()}))


def import_kind_modules(value: str) -> None:
    """Register, in the helper, the same extension kinds its parent has."""
    for module in filter(None, value.split(",")):
        importlib.import_module(module)


if __name__ == "__main__":
    import_kind_modules(os.environ.get(KIND_MODULES_ENV, ""))
    with contextlib.suppress(BrokenPipeError):  # the caller went away
        serve(sys.stdin.buffer, sys.stdout.buffer)
