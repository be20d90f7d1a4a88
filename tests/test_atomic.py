"""atomic_write (tensorgrad/serialization/atomic.py), used by tg.save and the training CSVs:
new files respect the umask, existing ones keep their mode, symlinks are written through,
errors name the target, and temporary files of killed writers are cleaned up safely."""
import fcntl
import os
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.app.train import write_metrics
from tensorgrad.serialization.atomic import STALE_SECONDS, atomic_write


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_new_files_respect_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        tg.save({"w": np.ones(2)}, tmp_path / "m.npz")
        write_metrics([], tmp_path / "metrics.csv")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "m.npz") == 0o666 & ~umask
    assert _mode(tmp_path / "metrics.csv") == 0o666 & ~umask


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "m.npz"
    tg.save({"w": np.ones(2)}, path)
    os.chmod(path, 0o604)
    tg.save({"w": np.zeros(2)}, path)
    assert _mode(path) == 0o604
    np.testing.assert_array_equal(tg.load(path)["w"], 0)


def test_a_symlink_is_written_through_to_its_target(tmp_path):
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "real.npz"
    tg.save({"w": np.ones(2)}, target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    tg.save({"w": np.full(2, 3.0)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(tg.load(target)["w"], 3.0)
    csv_link = tmp_path / "metrics.csv"
    csv_link.symlink_to(tmp_path / "runs" / "metrics.csv")    # dangling: the target is made
    write_metrics([{"epoch": 1, "lr": 0.1}], csv_link)
    assert csv_link.is_symlink() and csv_link.read_text().splitlines()[1].startswith("1,0.1,")
    assert sorted(os.listdir(tmp_path / "runs")) == ["metrics.csv", "real.npz"]


def test_errors_name_the_target_not_the_temporary_file(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-folder" / "m.npz"
    with pytest.raises(FileNotFoundError, match=f"cannot write {missing}: ") as info:
        tg.save({"w": np.ones(2)}, missing)
    assert ".tmp" not in str(info.value)

    def disk_full(file, **arrays):
        file.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match=f"cannot write {tmp_path / 'm.npz'}: No space left") as info:
        tg.save({"w": np.ones(2)}, tmp_path / "m.npz")
    assert info.value.errno == 28 and ".tmp" not in str(info.value)
    assert os.listdir(tmp_path) == []


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_temporary_files_of_a_killed_save_are_removed_by_the_next_save(tmp_path):
    killed = ("import os, sys, numpy as np\n"
              "from tensorgrad.serialization.atomic import atomic_write\n"
              "with atomic_write(sys.argv[1]) as f:\n"
              "    f.write(b'half a checkpoint'); f.flush(); os._exit(9)\n")
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", killed, str(tmp_path / "m.npz")],
                             env={**os.environ, "PYTHONPATH": os.getcwd()})
        assert run.returncode == 9
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert len(leftovers) == 2 and all(n.startswith(".tensorgrad-") for n in leftovers)
    for name in leftovers:
        _age(tmp_path / name, STALE_SECONDS + 60)
    tg.save({"w": np.ones(2)}, tmp_path / "m.npz")
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_clean_up_removes_nothing_that_is_not_certainly_a_dead_writers(tmp_path):
    def make(name, age):
        (tmp_path / name).write_bytes(b"x")
        _age(tmp_path / name, age)

    old = STALE_SECONDS + 60
    make(".tensorgrad-0123456789abcdef.tmp", 10)               # too recent: maybe alive
    make(".tensorgrad-00000000000000ff.tmp", old)              # locked by a live writer
    make(".tensorgrad-0123.tmp", old)                          # not our name pattern
    make(".tmp-abcdefgh.npz", old)                             # the old naming: not certain
    make("notes.tensorgrad-0123456789abcdef.tmp", old)
    (tmp_path / "folder.tmp").mkdir()
    link = tmp_path / ".tensorgrad-aaaaaaaaaaaaaaaa.tmp"                # a link, not a file
    link.symlink_to(tmp_path / "notes.tensorgrad-0123456789abcdef.tmp")
    os.utime(link, (time.time() - old,) * 2, follow_symlinks=False)
    make(".tensorgrad-fedcba9876543210.tmp", old)              # the only stale one
    before = set(os.listdir(tmp_path))
    with open(tmp_path / ".tensorgrad-00000000000000ff.tmp", "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with atomic_write(tmp_path / "out.bin") as f:
            f.write(b"data")
    assert set(os.listdir(tmp_path)) == before - {".tensorgrad-fedcba9876543210.tmp"} | {"out.bin"}
    assert (tmp_path / "out.bin").read_bytes() == b"data"


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    (tmp_path / "out.bin").write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(tmp_path / "out.bin") as f:
            f.write(b"new, half")
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == ["out.bin"] and (tmp_path / "out.bin").read_bytes() == b"old"
