"""Restoring a snapshot into a provider without a target: a target like the snapshot's source
is installed first (its type and config are in the snapshot file), its file placed by new_root
and merge_config exactly as a migration places it. A failed restore leaves the provider
without a target, serving NoTarget, with no file left behind."""

import os

import pytest

from conftest import TCP, check_abtio_installed, check_copied, fill_regions

SMALL_POOL = 16 << 20


def handle(engine, provider_id):
    from mochi.warabi.client import Client

    return Client(engine).make_target_handle(str(engine.addr()), provider_id)




def file_config(kind, path, pool_size=SMALL_POOL):
    if kind == "abtio":
        return {"target": {"type": "abtio", "config": {"path": str(path), "create_if_missing": True}}}
    return {"target": {"type": kind, "config": {"path": str(path), "create_if_missing_with_size": pool_size}}}


def assert_targetless(provider, t):
    """No target, and the provider still answers (NoTarget)."""
    from mochi.warabi.client import Exception as WarabiException

    assert "target" not in provider.get_config()
    with pytest.raises(WarabiException, match=f"warabi provider {provider.provider_id} has no target"):
        t.create(1)


def test_memory_into_targetless_keeps_ids(local_engine, tmp_path):
    from mochi.warabi.server import Provider

    a = Provider(local_engine, 1, {"target": {"type": "memory"}})
    contents = fill_regions(handle(local_engine, 1))
    a.snapshot(tmp_path / "snap")  # os.PathLike works; remove_source defaults to False
    b = Provider(local_engine, 2, {})
    tb = handle(local_engine, 2)
    mapping = b.restore(tmp_path / "snap")
    assert b.get_config()["target"] == {"type": "memory", "config": {}}
    check_copied(tb, contents, mapping)
    assert all(old == new for old, new in mapping.items())  # a fresh memory target keeps every id
    del a, b


def test_abtio_with_new_root_and_merge_config(local_engine, tmp_path):
    from mochi.warabi.server import Exception as ServerException, Provider

    (tmp_path / "src").mkdir(), (tmp_path / "dst").mkdir()
    src_file, dst_file = tmp_path / "src" / "store.abtio", tmp_path / "dst" / "store.abtio"
    a = Provider(local_engine, 1, {"target": {"type": "abtio", "config": {
        "path": str(src_file), "create_if_missing": True, "alignment": 64}}})
    ta = handle(local_engine, 1)
    contents = fill_regions(ta)
    a.snapshot(str(tmp_path / "snap"))
    b = Provider(local_engine, 2, {})
    tb = handle(local_engine, 2)

    # Without new_root the new file would be the (live) source's own file: refused, even when
    # merge_config allows replacing files.
    for options in ({}, {"merge_config": {"override_if_exists": True}}):
        with pytest.raises(ServerException, match=r'cannot install a "abtio" target into warabi provider 2 to restore '
                                                  r'.*is the source target\'s own file: give new_root'):
            b.restore(str(tmp_path / "snap"), **options)
        assert_targetless(b, tb)

    mapping = b.restore(str(tmp_path / "snap"), new_root=str(tmp_path / "dst"), merge_config={"sync": True})
    check_copied(tb, contents, mapping)
    check_abtio_installed(b, dst_file)
    assert dst_file.exists() and src_file.exists()
    for r, d in contents.items():  # the source is untouched
        assert ta.read(r, 0, len(d)) == d

    # b has a target now: a restore adds to it as before, and install options are refused.
    again = b.restore(str(tmp_path / "snap"))
    check_copied(tb, contents, again)
    with pytest.raises(ServerException, match=r'warabi provider 2 already has a "abtio" target: new_root and '
                                              r'merge_config only apply when a restore installs'):
        b.restore(str(tmp_path / "snap"), new_root=str(tmp_path / "dst"))
    del a, b


@pytest.mark.parametrize("type_name", ["pmdk", "pmem"])
def test_pmdk_into_targetless(local_engine, tmp_path, type_name):
    from mochi.warabi.server import Provider

    (tmp_path / "src").mkdir(), (tmp_path / "dst").mkdir()
    dst_file = tmp_path / "dst" / "store.pmem"
    a = Provider(local_engine, 1, file_config(type_name, tmp_path / "src" / "store.pmem"))
    contents = fill_regions(handle(local_engine, 1))
    a.snapshot(str(tmp_path / "snap"), remove_source=True)
    assert a.get_config()["target"]["type"] == type_name  # a snapshot keeps the target
    b = Provider(local_engine, 2, {})
    mapping = b.restore(str(tmp_path / "snap"), new_root=str(tmp_path / "dst"))
    check_copied(handle(local_engine, 2), contents, mapping)
    got = b.get_config()["target"]
    assert got["type"] == type_name
    assert got["config"]["path"] == str(dst_file)
    assert got["config"]["create_if_missing_with_size"] >= SMALL_POOL
    assert dst_file.stat().st_size >= SMALL_POOL
    del a, b


@pytest.mark.parametrize("kind", ["abtio", "pmdk"])
def test_restored_target_serves_from_another_process(local_engine, make_server, client_engine, tmp_path, kind):
    """The restored regions were persisted into the installed file: a server process started
    on that file serves them."""
    from mochi.warabi.client import Client
    from mochi.warabi.server import Provider

    (tmp_path / "src").mkdir(), (tmp_path / "dst").mkdir()
    a = Provider(local_engine, 1, file_config(kind, tmp_path / "src" / "store.dat"))
    contents = fill_regions(handle(local_engine, 1))
    a.snapshot(str(tmp_path / "snap"))
    b = Provider(local_engine, 2, {})
    mapping = b.restore(str(tmp_path / "snap"), new_root=str(tmp_path / "dst"))
    installed = b.get_config()["target"]
    assert installed["config"]["path"] == str(tmp_path / "dst" / "store.dat")
    del a, b  # closes both files

    server = make_server({2: {"target": installed}}, protocol=TCP)
    check_copied(Client(client_engine).make_target_handle(server.address, 2), contents, mapping)


def flip_byte(path, at):
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_failed_restores_leave_the_provider_targetless(local_engine, tmp_path):
    from mochi.warabi.server import Exception as ServerException, Provider

    (tmp_path / "dst").mkdir()
    placed = tmp_path / "dst" / "store.abtio"
    a = Provider(local_engine, 1, file_config("abtio", tmp_path / "store.abtio"))
    contents = fill_regions(handle(local_engine, 1))
    a.snapshot(str(tmp_path / "good"))
    good = tmp_path / "good" / "warabi.snapshot"
    b = Provider(local_engine, 2, {})
    tb = handle(local_engine, 2)
    dst = str(tmp_path / "dst")

    # Damaged snapshots (the recorded config, a region's bytes, a cut-off end) are refused
    # before anything is installed.
    for name, damage in (("header", lambda p: flip_byte(p, 40)),
                         ("data", lambda p: flip_byte(p, p.stat().st_size // 2)),
                         ("truncated", lambda p: os.truncate(p, p.stat().st_size - 5))):
        bad = tmp_path / f"bad-{name}"
        bad.mkdir()
        (bad / "warabi.snapshot").write_bytes(good.read_bytes())
        damage(bad / "warabi.snapshot")
        with pytest.raises(ServerException, match=f'snapshot file "{bad}/warabi.snapshot" is (damaged|truncated)'):
            b.restore(str(bad), new_root=dst)
        assert_targetless(b, tb)
        assert not placed.exists()
    with pytest.raises(ServerException, match=r'cannot open snapshot file ".*/missing/warabi.snapshot"'):
        b.restore(str(tmp_path / "missing"), new_root=dst)
    assert_targetless(b, tb)

    # new_root must be an existing directory.
    missing = tmp_path / "no" / "such" / "dir"
    with pytest.raises(ServerException, match=f'directory "{missing}" does not exist'):
        b.restore(str(tmp_path / "good"), new_root=str(missing))
    assert_targetless(b, tb)
    assert not missing.exists()

    # Bad option values.
    with pytest.raises(ServerException, match="merge_config must be a dict, got list"):
        b.restore(str(tmp_path / "good"), new_root=dst, merge_config=[1])
    with pytest.raises(ServerException, match=r"merge_config must be a JSON object, got \[1\]"):
        b.restore(str(tmp_path / "good"), new_root=dst, merge_config="[1]")
    with pytest.raises(ServerException, match="merge_config is not valid JSON"):
        b.restore(str(tmp_path / "good"), new_root=dst, merge_config="{nope")
    with pytest.raises(ServerException, match="new_root must be a str path"):
        b.restore(str(tmp_path / "good"), new_root=b"bytes")
    assert_targetless(b, tb)

    # A file already at the destination path is never replaced silently...
    placed.write_bytes(b"someone else's file")
    with pytest.raises(ServerException, match=r'already exists on the destination .*"override_if_exists": true'):
        b.restore(str(tmp_path / "good"), new_root=dst)
    assert placed.read_bytes() == b"someone else's file"
    assert_targetless(b, tb)
    # ... only when asked to; the provider then serves the restored regions.
    mapping = b.restore(str(tmp_path / "good"), new_root=dst, merge_config='{"override_if_exists": true}')
    check_copied(tb, contents, mapping)
    assert b.get_config()["target"]["config"]["override_if_exists"] is True
    del a, b


def test_restore_that_does_not_fit_leaves_no_file(local_engine, tmp_path):
    """Filling the installed target fails (merge_config made its pool too small): the target
    is dropped and its new pool file removed."""
    from mochi.warabi.server import Exception as ServerException, Provider

    a = Provider(local_engine, 1, file_config("pmdk", tmp_path / "big.pmem", pool_size=32 << 20))
    ta = handle(local_engine, 1)
    contents = {ta.create_and_write(os.urandom(4 << 20)): None for _ in range(3)}
    a.snapshot(str(tmp_path / "snap"))
    b = Provider(local_engine, 2, {})
    tb = handle(local_engine, 2)
    small = tmp_path / "small.pmem"
    with pytest.raises(ServerException, match=r'cannot install a "pmdk" target into warabi provider 2 to restore'):
        b.restore(str(tmp_path / "snap"), merge_config={"path": str(small), "create_if_missing_with_size": 8 << 20})
    assert_targetless(b, tb)
    assert not small.exists()
    assert len(b.restore(str(tmp_path / "snap"), merge_config={"path": str(small)})) == len(contents)
    del a, b
