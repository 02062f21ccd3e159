"""The compiled extensions carry py-mochi-bedrock's and py-mochi-flock's names, and each family
shares one exception type (errors from either half are caught by one `except`)."""

import json

import pytest

import pybedrock_client
import pybedrock_server
import pyflock_client
import pyflock_common
import pyflock_server

import mochi.bedrock.client
import mochi.bedrock.server
import mochi.flock.client
import mochi.flock.server


def test_python_modules_use_the_upstream_extension_names():
    assert mochi.bedrock.server.BedrockException is pybedrock_server.BedrockException
    assert mochi.bedrock.client.ClientException is pybedrock_client.ClientException
    assert issubclass(pybedrock_server.BedrockException, RuntimeError)
    assert issubclass(pybedrock_client.ClientException, RuntimeError)
    assert pyflock_client.FlockException is pyflock_common.FlockException
    assert pyflock_server.FlockException is pyflock_common.FlockException
    assert mochi.flock.client.FlockException is mochi.flock.server.FlockException


def test_flock_common_parses_views(tmp_path):
    view = {"members": [{"address": "na+sm://1-0", "provider_id": 3}], "metadata": {"__type__": "static"}}
    again = json.loads(pyflock_common.normalize_view(json.dumps(view)))
    assert again["members"] == view["members"]
    path = tmp_path / "g.flock"
    path.write_text(json.dumps(view))
    assert json.loads(pyflock_common.load_view(str(path)))["members"][0]["provider_id"] == 3
    with pytest.raises(pyflock_common.FlockException):
        pyflock_common.normalize_view("{not json")
    with pytest.raises(pyflock_common.FlockException, match="nowhere"):
        pyflock_common.load_view(str(tmp_path / "nowhere.flock"))


def test_flock_errors_keep_their_type_per_extension(tmp_path):
    """A flock error is FlockException from mochi.flock and BedrockException from a bedrock server,
    whichever extension was imported last (the translators are module-local)."""
    from bedrock_helpers import TCP

    with pytest.raises(pyflock_common.FlockException):
        mochi.flock.client.Client(TCP).make_group_handle_from_file(str(tmp_path / "missing.flock"))
    cfg = {"providers": [{"name": "g", "type": "flock", "config": {"bootstrap": "nonsense"}}]}
    with pytest.raises(mochi.bedrock.server.BedrockException, match="nonsense"):
        mochi.bedrock.server.Server(TCP, json.dumps(cfg))
