"""portal/sandbox.py on its own: what the child sees and how it is stopped (TechDocs' and fetch:rails' uses
are tested in their apps)."""

import os
import sys

import pytest

from portal import sandbox


def test_the_child_sees_none_of_the_portals_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    result = sandbox.run(["sh", "-c", 'echo "key=${SECRET_KEY:-none} home=$HOME pwd=$(pwd)"'], tmp_path,
                         name="probe", timeout=30, memory_mb=512, isolate_network=False)  # fmt: skip
    assert result.ok, result.log
    assert result.log.strip() == f"key=none home={tmp_path} pwd={tmp_path}"


def test_a_child_running_too_long_is_killed_with_its_group(tmp_path):
    result = sandbox.run(["sh", "-c", "sleep 60 & sleep 60"], tmp_path, name="sleeper", timeout=1, memory_mb=512,
                         timeout_setting="PROBE_TIMEOUT", isolate_network=False)  # fmt: skip
    assert not result.ok and result.timed_out
    assert result.log.endswith("sleeper took longer than 1 s (PROBE_TIMEOUT) and was stopped")


def test_only_the_tail_of_a_flood_of_output_is_kept(tmp_path):
    code = "import sys\nfor i in range(200_000): sys.stdout.write(f'line {i}\\n')"
    result = sandbox.run([sys.executable, "-c", code], tmp_path, name="flood", timeout=30, memory_mb=512,
                         isolate_network=False)  # fmt: skip
    assert result.ok
    assert len(result.log) <= sandbox.OUTPUT_TAIL_CHARS
    assert result.log.endswith("line 199999\n")


@pytest.mark.skipif(not sandbox.write_confinement_available(), reason="needs Linux namespaces (unshare)")
def test_a_confined_child_has_no_network_and_writes_only_in_its_work_dir(tmp_path, settings):
    outside = settings.BASE_DIR / "sandbox-escape-probe.txt"
    hidden = tmp_path.parent / f"{tmp_path.name}-hidden"
    hidden.mkdir()
    (hidden / "secret").write_text("s3cret")
    script = (f"touch {outside} 2>/dev/null && echo wrote-outside; touch inside && echo wrote-inside; "
              f"cat {hidden}/secret 2>/dev/null; test -e /proc/{os.getpid()} && echo sees-worker; "
              "awk -F: 'NR > 2 {print $1}' /proc/net/dev")  # fmt: skip
    result = sandbox.run(["sh", "-c", script], tmp_path, name="probe", timeout=30, memory_mb=512,
                         confine_writes=True, hide=[hidden])  # fmt: skip
    assert result.ok and result.isolated and result.confined, result.log
    assert result.log.split() == ["wrote-inside", "lo"]  # the network namespace has only its loopback
    assert (tmp_path / "inside").exists() and not outside.exists()
