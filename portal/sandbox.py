"""Running a program on untrusted input (mkdocs on a repository's docs, ``rails new`` with a template's Ruby):
a subprocess with limits, no secrets, no network and, where possible, writes only in its work directory.

What is enforced, and where:
- always: an environment with nothing of Callboard's (no SECRET_KEY, DATABASE_URL or tokens: only PATH,
  HOME in the work dir, locale and what the caller adds), the work dir as cwd, a wall-clock timeout that
  kills the whole process group, and resource limits set in the child before it starts (address space,
  CPU seconds, size of any file written, open files); its output goes to a file (so it is bounded by the
  file-size limit) and only the tail is kept;
- on Linux where namespaces can be created (root, or unprivileged user namespaces enabled):
  ``isolate_network`` runs it with no network at all (``unshare --net``); ``confine_writes`` also gives it
  mount and PID namespaces: the whole file system read-only except the work dir and an empty /tmp, the
  folders in ``hide`` empty, and a /proc of its own (the worker's processes and environment unseen).
  Elsewhere it runs with the host's network and file system, and the result says so.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

UNSHARE = shutil.which("unshare")
OUTPUT_TAIL_CHARS = 20_000

# Run inside the new mount and PID namespaces: a read-only copy of / with the work dir (and a fresh /tmp)
# writable, the hidden folders empty, a /proc showing only the sandbox's own processes (not the worker's
# environment), then the command chrooted into it, in the work dir. Arguments only ("$@"), never interpolated.
_CONFINE = r"""
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
root=$1; work=$2; hidden=$3; shift 3
mount --make-rprivate /
mount --rbind / "$root"
findmnt -rn -o TARGET -R "$root" | sort | while read -r m; do mount -o remount,bind,ro "$m" 2>/dev/null || true; done
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o size=64m,mode=1777 tmpfs "$root/tmp"
while [ "$hidden" -gt 0 ]; do
  [ -d "$root$1" ] && mount -t tmpfs -o size=1m,mode=755 tmpfs "$root$1"
  shift; hidden=$((hidden - 1))
done
mkdir -p "$root$work" 2>/dev/null || true
mount --bind "$work" "$root$work"
exec chroot "$root" /usr/bin/env -C "$work" "$@"
"""


@dataclass
class SandboxResult:
    ok: bool
    log: str
    isolated: bool  # ran without network
    confined: bool = False  # could write only in its work dir
    timed_out: bool = False


def _probe(prefix: list[str], confine: bool) -> bool:
    command = [*prefix, "true"]
    with tempfile.TemporaryDirectory() as root, tempfile.TemporaryDirectory() as work:
        if confine:
            command = [*prefix, "sh", "-c", _CONFINE, "sandbox", root, work, "0", "true"]
        try:
            return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False


@functools.cache
def _namespace_prefix(confine: bool) -> tuple[str, ...] | None:
    """The ``unshare`` prefix that works on this machine (plain as root, with a user namespace otherwise)."""
    if not UNSHARE or not sys.platform.startswith("linux"):
        return None
    extra = ["--mount", "--pid", "--fork"] if confine else []
    for prefix in ([UNSHARE, "--net", *extra, "--"], [UNSHARE, "--user", "--map-root-user", "--net", *extra, "--"]):
        if _probe(prefix, confine):
            return tuple(prefix)
    return None


def network_isolation_available() -> bool:
    return _namespace_prefix(False) is not None


def write_confinement_available() -> bool:
    return _namespace_prefix(True) is not None


def _limits(memory_bytes: int, cpu_seconds: int, file_bytes: int) -> None:  # runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


def clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Nothing of the portal's environment: untrusted input must not read a secret."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            **(extra or {})}  # fmt: skip


def run(
    command: list[str],
    work_dir: Path,
    *,
    name: str,
    timeout: int,
    timeout_setting: str = "",
    memory_mb: int,
    file_mb: int = 200,
    isolate_network: bool = True,
    confine_writes: bool = False,
    env: dict[str, str] | None = None,
    hide: list[Path] | tuple[Path, ...] = (),
) -> SandboxResult:
    """Run ``command`` (an argument list, never a shell line) in ``work_dir``; never raises for a failure.

    ``hide``: folders that look empty to a confined command (the data dir, home folders: keys and tokens)."""
    prefix = _namespace_prefix(confine_writes) if (isolate_network or confine_writes) else None
    isolated, confined = prefix is not None, prefix is not None and confine_writes
    root = tempfile.mkdtemp(prefix="callboard-sandbox-") if confined else None
    if prefix is not None:
        hidden = [str(Path(path).resolve()) for path in hide]
        command = [*prefix, "sh", "-c", _CONFINE, "sandbox", root, str(work_dir), str(len(hidden)), *hidden,
                   *command] if confined else [*prefix, *command]  # fmt: skip
    preexec = functools.partial(_limits, memory_mb * 1024 * 1024, timeout, file_mb * 1024 * 1024)
    try:
        with tempfile.TemporaryFile() as output:
            try:
                process = subprocess.Popen(
                    command, cwd=work_dir, env=env or clean_env(work_dir), stdin=subprocess.DEVNULL, stdout=output,
                    stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec,
                )  # fmt: skip
            except OSError as exc:
                return SandboxResult(False, f"could not start {name}: {exc}", isolated, confined)
            timed_out = False
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                timed_out = True
            text = _tail(output)
    finally:
        if root:
            os.rmdir(root)
    if timed_out:
        setting = f" ({timeout_setting})" if timeout_setting else ""
        return SandboxResult(False, f"{text}\n{name} took longer than {timeout} s{setting} and was stopped",
                             isolated, confined, timed_out=True)  # fmt: skip
    if process.returncode < 0:
        text += f"\n{name} was stopped by signal {-process.returncode} (a memory or CPU limit?)"
    return SandboxResult(process.returncode == 0, text, isolated, confined)


def _tail(output) -> str:
    size = output.seek(0, os.SEEK_END)
    output.seek(max(0, size - OUTPUT_TAIL_CHARS * 4))
    return output.read().decode("utf-8", "replace")[-OUTPUT_TAIL_CHARS:]
