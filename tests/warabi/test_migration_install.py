"""Migration into a provider without a target: the source installs a target like its own there
(file under new_root, merge_config over its config), then copies the regions; with
remove_source the source ends target-less and its file is removed."""

import pytest

from conftest import TCP, check_abtio_installed, check_copied, fill_regions, target_config

SMALL_POOL = 16 << 20




def pmdk_config(directory, name="store", type_name="pmdk"):
    return {"target": {"type": type_name, "config": {"path": str(directory / f"{name}.pmem"),
                                                     "create_if_missing_with_size": SMALL_POOL}}}


def handles(engine, *ids):
    from mochi.warabi.client import Client

    c = Client(engine)
    return [c.make_target_handle(str(engine.addr()), i) for i in ids]


def test_memory_into_targetless_in_process(local_engine):
    from mochi.warabi.server import Provider

    a = Provider(local_engine, 1, {"target": {"type": "memory"}})
    b = Provider(local_engine, 2, {})
    ta, tb = handles(local_engine, 1, 2)
    contents = fill_regions(ta)
    copy = a.migrate(str(local_engine.addr()), 2, remove_source=False, transfer_size=1 << 20)
    assert b.get_config()["target"] == {"type": "memory", "config": {}}
    check_copied(tb, contents, copy)
    for r, d in contents.items():  # a copy: the source keeps everything
        assert ta.read(r, 0, len(d)) == d
    # b has a target now: a second migration copies into it, as migrations always did, and the
    # source keeps its (now empty) target.
    moved = a.migrate(str(local_engine.addr()), 2)
    check_copied(tb, contents, moved)
    assert "target" in a.get_config() and a.migrate(str(local_engine.addr()), 2) == {}
    del a, b


def test_memory_moves_between_processes_and_back(make_server, client_engine):
    from mochi.warabi.client import Client, Exception as WarabiException

    src = make_server({1: target_config("memory", ".")}, protocol=TCP)
    dst = make_server({2: {}}, protocol=TCP)
    c = Client(client_engine)
    s, d = c.make_target_handle(src.address, 1), c.make_target_handle(dst.address, 2)
    contents = fill_regions(s)
    moved = s.migrate(dst.address, 2, transfer_size=1 << 20)  # remove_source defaults to True
    check_copied(d, contents, moved)
    # The whole target moved: the source has none left.
    with pytest.raises(WarabiException, match="warabi provider 1 has no target"):
        s.create(1)
    with pytest.raises(WarabiException, match="warabi provider 1 has no target"):
        s.read(next(iter(contents)), 0, 1)
    # ... so it can take one back.
    back = d.migrate(src.address, 1, remove_source=True)
    for old, new in moved.items():
        assert s.read(back[new], 0, len(contents[old])) == contents[old]
    with pytest.raises(WarabiException, match="warabi provider 2 has no target"):
        d.create(1)


def test_abtio_copy_with_new_root_and_merge_config(local_engine, tmp_path):
    from mochi.warabi.server import Exception as ServerException, Provider

    (tmp_path / "src").mkdir(), (tmp_path / "dst").mkdir()
    src_file, dst_file = tmp_path / "src" / "store.abtio", tmp_path / "dst" / "store.abtio"
    a = Provider(local_engine, 1, {"target": {"type": "abtio", "config": {
        "path": str(src_file), "create_if_missing": True, "alignment": 64}}})
    b = Provider(local_engine, 2, {})
    ta, tb = handles(local_engine, 1, 2)
    contents = fill_regions(ta)
    addr = str(local_engine.addr())

    # Without new_root the destination would be the source's own file (same host): refused.
    with pytest.raises(ServerException, match=r"cannot install a \"abtio\" target into warabi provider 2 at .*"
                                              r"is the source target's own file: give new_root"):
        a.migrate(addr, 2, remove_source=False)
    assert "target" not in b.get_config()

    copy = a.migrate(addr, 2, remove_source=False, transfer_size=1 << 20, new_root=str(tmp_path / "dst"),
                     merge_config={"sync": True})
    check_copied(tb, contents, copy)
    check_abtio_installed(b, dst_file)
    assert dst_file.exists() and src_file.exists()
    for r, d in contents.items():
        assert ta.read(r, 0, len(d)) == d
    assert a.get_config()["target"]["config"]["path"] == str(src_file)
    del a, b


def test_abtio_moves_across_processes(make_server, client_engine, tmp_path):
    """remove_source: the source ends target-less and its file is gone; the copies were
    persisted, so they survive a crash of the destination."""
    from mochi.warabi.client import Client, Exception as WarabiException

    (tmp_path / "src").mkdir(), (tmp_path / "dst").mkdir()
    src_file, dst_file = tmp_path / "src" / "store.abtio", tmp_path / "dst" / "store.abtio"
    src = make_server({1: target_config("abtio", tmp_path / "src")}, protocol=TCP)
    dst = make_server({2: {}}, protocol=TCP)
    c = Client(client_engine)
    s = c.make_target_handle(src.address, 1)
    contents = fill_regions(s)
    # Another process on the same host: still the very same file without new_root.
    with pytest.raises(WarabiException, match="is the source target's own file"):
        s.migrate(dst.address, 2)
    moved = s.migrate(dst.address, 2, new_root=tmp_path / "dst", transfer_size=1 << 20)  # os.PathLike works
    check_copied(c.make_target_handle(dst.address, 2), contents, moved)
    with pytest.raises(WarabiException, match="warabi provider 1 has no target"):
        s.create(1)
    assert not src_file.exists() and dst_file.exists()

    dst.kill()
    dst2 = make_server({2: {"target": {"type": "abtio", "config": {"path": str(dst_file)}}}}, protocol=TCP)
    check_copied(c.make_target_handle(dst2.address, 2), contents, moved)


@pytest.mark.parametrize("type_name", ["pmdk", "pmem"])
def test_pmdk_moves_into_targetless(local_engine, tmp_path, type_name):
    from mochi.warabi.server import Provider

    (tmp_path / "src").mkdir(), (tmp_path / "dst").mkdir()
    src_file, dst_file = tmp_path / "src" / "store.pmem", tmp_path / "dst" / "store.pmem"
    a = Provider(local_engine, 1, pmdk_config(tmp_path / "src", type_name=type_name))
    b = Provider(local_engine, 2, {})
    ta, tb = handles(local_engine, 1, 2)
    contents = fill_regions(ta)
    moved = a.migrate(str(local_engine.addr()), 2, new_root=str(tmp_path / "dst"), transfer_size=1 << 20)
    check_copied(tb, contents, moved)
    got = b.get_config()["target"]
    assert got["type"] == type_name
    assert got["config"]["path"] == str(dst_file)
    assert got["config"]["create_if_missing_with_size"] >= SMALL_POOL
    assert "target" not in a.get_config()
    assert not src_file.exists() and dst_file.stat().st_size >= SMALL_POOL
    del a, b


def test_pmdk_copy_across_processes(make_server, client_engine, tmp_path):
    from mochi.warabi.client import Client

    (tmp_path / "src").mkdir(), (tmp_path / "dst").mkdir()
    src = make_server({1: pmdk_config(tmp_path / "src")}, protocol=TCP)
    dst = make_server({2: {}}, protocol=TCP)
    c = Client(client_engine)
    s = c.make_target_handle(src.address, 1)
    contents = fill_regions(s)
    copy = s.migrate(dst.address, 2, remove_source=False, new_root=str(tmp_path / "dst"))
    check_copied(c.make_target_handle(dst.address, 2), contents, copy)
    for r, d in contents.items():
        assert s.read(r, 0, len(d)) == d
    assert (tmp_path / "dst" / "store.pmem").exists()


def test_install_into_a_provider_with_a_target_is_refused(local_engine, tmp_path):
    from mochi.warabi.server import Exception as ServerException, Provider

    a = Provider(local_engine, 1, {"target": {"type": "abtio", "config": {
        "path": str(tmp_path / "a.abtio"), "create_if_missing": True}}})
    b = Provider(local_engine, 2, {"target": {"type": "memory"}})
    ta, tb = handles(local_engine, 1, 2)
    contents = fill_regions(ta)
    kept = tb.create_and_write(b"b's own region")
    before = b.get_config()
    addr = str(local_engine.addr())
    for options in ({"new_root": str(tmp_path)}, {"merge_config": {"sync": True}}):
        with pytest.raises(ServerException, match=r'already has a "memory" target: new_root and merge_config only '
                                                  r'apply when the migration installs'):
            a.migrate(addr, 2, **options)
    assert b.get_config() == before
    assert tb.read(kept, 0, 14) == b"b's own region"
    for r, d in contents.items():
        assert ta.read(r, 0, len(d)) == d
    del a, b


def test_bad_new_root_changes_nothing(local_engine, tmp_path):
    from mochi.warabi.server import Exception as ServerException, Provider

    a = Provider(local_engine, 1, {"target": {"type": "abtio", "config": {
        "path": str(tmp_path / "store.abtio"), "create_if_missing": True}}})
    b = Provider(local_engine, 2, {})
    ta, tb = handles(local_engine, 1, 2)
    contents = fill_regions(ta)
    addr = str(local_engine.addr())
    missing = tmp_path / "no" / "such" / "dir"
    with pytest.raises(ServerException, match=f'directory "{missing}" does not exist on the destination'):
        a.migrate(addr, 2, new_root=str(missing))
    assert "target" not in b.get_config() and not missing.exists()
    for r, d in contents.items():
        assert ta.read(r, 0, len(d)) == d

    # A file already at the destination path is never replaced silently...
    taken = tmp_path / "dst"
    taken.mkdir()
    (taken / "store.abtio").write_bytes(b"someone else's file")
    with pytest.raises(ServerException, match=r'already exists on the destination .*"override_if_exists": true in '
                                              r'merge_config'):
        a.migrate(addr, 2, new_root=str(taken))
    assert (taken / "store.abtio").read_bytes() == b"someone else's file"
    # ... only when asked to.
    moved = a.migrate(addr, 2, new_root=str(taken), merge_config='{"override_if_exists": true}')
    check_copied(tb, contents, moved)
    assert b.get_config()["target"]["config"]["override_if_exists"] is True
    del a, b


def test_bad_option_values(local_engine):
    from mochi.warabi.client import Exception as WarabiException
    from mochi.warabi.server import Exception as ServerException, Provider

    a = Provider(local_engine, 1, {"target": {"type": "memory"}})
    b = Provider(local_engine, 2, {})
    ta, _ = handles(local_engine, 1, 2)
    region = ta.create_and_write(b"stays")
    addr = str(local_engine.addr())
    with pytest.raises(ServerException, match="merge_config must be a dict, got list"):
        a.migrate(addr, 2, merge_config=[1])
    with pytest.raises(ServerException, match=r"merge_config must be a JSON object, got \[1\]"):
        a.migrate(addr, 2, merge_config="[1]")
    with pytest.raises(WarabiException, match="merge_config is not valid JSON"):
        ta.migrate(addr, 2, merge_config="{nope")
    with pytest.raises(WarabiException, match="transfer_size must be at least 1"):
        ta.migrate(addr, 2, transfer_size=0)
    assert "target" not in b.get_config()
    assert ta.read(region, 0, 5) == b"stays"
    del a, b
