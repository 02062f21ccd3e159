"""The in-process bedrock Server and its managers (margo pools/xstreams, providers)."""

import enum
import json

import pybedrock_server
# py-mochi-bedrock imports the legacy name; pymargo.core is the very module mochi.margo.core.
import pymargo.core  # noqa: F401
from mochi.margo.core import Engine

from . import spec as _spec

BedrockException = pybedrock_server.BedrockException


class ConfigType(enum.Enum):
    JSON = 0
    JX9 = 1


def _to_json(config):
    """Accepts a str (JSON), a dict/list, or a spec object (anything with to_json)."""
    if isinstance(config, str):
        return config
    if isinstance(config, (dict, list)):
        return json.dumps(config)
    if hasattr(config, "to_json"):
        return config.to_json()
    raise TypeError(f"expected a JSON string, a dict or a spec, got {type(config).__name__}")


class NamedDependency:
    """A pool or xstream of a server: ``.name`` and ``.type`` ("pool" or "xstream")."""

    def __init__(self, name, type):
        self._name = name
        self._type = type

    @property
    def name(self):
        return self._name

    @property
    def type(self):
        return self._type

    def __eq__(self, other):
        return isinstance(other, NamedDependency) and (self.name, self.type) == (other.name, other.type)

    def __hash__(self):
        return hash((self._name, self._type))

    def __repr__(self):
        return f"<{self._type} {self._name}>"


class Pool(NamedDependency):
    def __init__(self, name):
        super().__init__(name, "pool")


class Xstream(NamedDependency):
    def __init__(self, name):
        super().__init__(name, "xstream")


class _NamedList:
    """Shared by PoolList and XstreamList: entries of margo.argobots.<key>."""

    _key = None
    _item = None

    def __init__(self, server):
        self._server = server

    def _entries(self):
        margo = self._server.config["margo"]
        if isinstance(margo, list):
            margo = margo[0]
        return margo["argobots"][self._key]

    def _names(self):
        return [e["name"] for e in self._entries()]

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter([self._item(n) for n in self._names()])

    def __getitem__(self, key):
        names = self._names()
        if isinstance(key, int):
            if key < 0 or key >= len(names):
                raise BedrockException(f"no {self._item.__name__.lower()} at index {key}")
            return self._item(names[key])
        if isinstance(key, str):
            if key not in names:
                raise BedrockException(f"no {self._item.__name__.lower()} named {key!r}")
            return self._item(key)
        raise TypeError("expected an index or a name")

    def __contains__(self, key):
        if isinstance(key, NamedDependency):
            key = key.name
        if isinstance(key, int):
            return 0 <= key < len(self)
        return key in self._names()

    def _name_of(self, key):
        return self[key].name


class PoolList(_NamedList):
    _key = "pools"
    _item = Pool

    def create(self, config):
        cfg = json.loads(_to_json(config))
        self._server._internal.add_pool(json.dumps(cfg))
        return Pool(cfg.get("name", self._names()[-1]))

    def __delitem__(self, key):
        self._server._internal.remove_pool(self._name_of(key))


class XstreamList(_NamedList):
    _key = "xstreams"
    _item = Xstream

    def create(self, config):
        cfg = json.loads(_to_json(config))
        self._server._internal.add_xstream(json.dumps(cfg))
        return Xstream(cfg["name"])

    def __delitem__(self, key):
        self._server._internal.remove_xstream(self._name_of(key))


class MargoManager:
    def __init__(self, server):
        self._server = server

    @property
    def mid(self):
        return self._server._internal.get_margo_instance(0)

    @property
    def engine(self):
        return Engine.from_margo_instance_id(self.mid)

    @property
    def config(self):
        return self._server.config["margo"]

    @property
    def spec(self):
        cfg = self.config
        if isinstance(cfg, list):
            return [_spec.MargoSpec.from_dict(c) for c in cfg]
        return _spec.MargoSpec.from_dict(cfg)

    @property
    def pools(self):
        return PoolList(self._server)

    @property
    def xstreams(self):
        return XstreamList(self._server)

    @property
    def default_handler_pool(self):
        cfg = self.config
        if isinstance(cfg, list):
            cfg = cfg[0]
        return Pool(cfg["rpc_pool"])

    @property
    def num_engines(self):
        return self._server._internal.num_engines()


class Provider:
    """A provider running in the server (``.name``, ``.type``, ``.provider_id``)."""

    def __init__(self, manager, name, type, provider_id):
        self._manager = manager
        self._name = name
        self._type = type
        self._provider_id = provider_id

    @property
    def name(self):
        return self._name

    @property
    def type(self):
        return self._type

    @property
    def provider_id(self):
        return self._provider_id

    @property
    def config(self):
        for p in self._manager.config:
            if p["name"] == self._name:
                return p["config"]
        raise BedrockException(f"no provider named {self._name!r}")

    def change_pool(self, pool):
        name = pool.name if isinstance(pool, NamedDependency) else str(pool)
        self._manager._server._internal.change_provider_pool(self._name, name)

    def __repr__(self):
        return f"<bedrock provider {self._name} ({self._type}, id {self._provider_id})>"


class ProviderManager:
    def __init__(self, server):
        self._server = server

    @property
    def config(self):
        return self._server.config["providers"]

    @property
    def spec(self):
        return [_spec.ProviderSpec.from_dict(p) for p in self.config]

    def _list(self):
        return self._server._internal.providers()

    def __len__(self):
        return len(self._list())

    def __iter__(self):
        return iter([Provider(self, *p[:3]) for p in self._list()])

    def __getitem__(self, key):
        items = self._list()
        if isinstance(key, int):
            if key < 0 or key >= len(items):
                raise BedrockException(f"no provider at index {key}")
            return Provider(self, *items[key][:3])
        if isinstance(key, str):
            for p in items:
                if p[0] == key:
                    return Provider(self, *p[:3])
            raise BedrockException(f"no provider named {key!r}")
        raise TypeError("expected an index or a name")

    def __delitem__(self, key):
        self._server._internal.remove_provider(self[key].name)

    def __contains__(self, key):
        if isinstance(key, Provider):
            key = key.name
        try:
            self[key]
            return True
        except BedrockException:
            return False

    def lookup(self, locator, timeout=0.0):
        """``"name"``, ``"type:id"``, optionally followed by ``"@address"``."""
        name, type, provider_id, _ = self._server._internal.lookup_provider(locator, float(timeout))
        return Provider(self, name, type, provider_id)

    def create(self, name, type, provider_id=65535, config={}, dependencies={}, tags=[]):
        desc = {"name": name, "type": type, "provider_id": provider_id,
                "config": json.loads(_to_json(config)), "dependencies": dict(dependencies),
                "tags": list(tags)}
        pid = self._server._internal.add_provider(json.dumps(desc))
        return Provider(self, name, type, pid)

    def migrate(self, provider, dest_addr, dest_provider_id, migration_config="{}", remove_source=True):
        name = provider.name if isinstance(provider, Provider) else str(provider)
        self._server._internal.migrate_provider(name, str(dest_addr), int(dest_provider_id),
                                                _to_json(migration_config), bool(remove_source))

    def snapshot(self, provider, dest_path, snapshot_config="{}", remove_source=True):
        name = provider.name if isinstance(provider, Provider) else str(provider)
        self._server._internal.snapshot_provider(name, str(dest_path), _to_json(snapshot_config),
                                                 bool(remove_source))

    def restore(self, provider, src_path, restore_config="{}"):
        name = provider.name if isinstance(provider, Provider) else str(provider)
        self._server._internal.restore_provider(name, str(src_path), _to_json(restore_config))


def _jx9_param(value):
    """Parameters given as text are typed as the bedrock command's --jx9-context does:
    integers, floats, true/false/null, anything else a string."""
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    return parsed if parsed is None or isinstance(parsed, (bool, int, float)) else value


def _run_jx9_config(script, jx9_params):
    """Runs a Jx9 config script (``return {...};``) with jx9_params as its variables and
    $MPI_COMM_WORLD = {rank: 0, size: 1} (an in-process server is one process); the object
    it returns is the JSON config."""
    if not isinstance(script, str):
        raise BedrockException("a Jx9 config must be the script's text, got " + type(script).__name__)
    variables = {str(k): _jx9_param(v) for k, v in dict(jx9_params).items()}
    variables.setdefault("MPI_COMM_WORLD", {"rank": 0, "size": 1})
    result = json.loads(pybedrock_server.evaluate_query(script, json.dumps(variables)))
    if not isinstance(result, dict):
        raise BedrockException("the Jx9 config script must return an object, got " + json.dumps(result))
    return result


class Server:
    """A bedrock server in this process.

    ``Server(address, config="{}")``: config is a JSON string, a dict or a ProcSpec.
    """

    def __init__(self, address, config="{}", config_type=ConfigType.JSON, jx9_params={}):
        if config_type == ConfigType.JX9:
            config = _run_jx9_config(config, jx9_params)
        elif jx9_params:
            raise BedrockException("jx9_params are only used with config_type=ConfigType.JX9")
        self._internal = pybedrock_server.Server(str(address), _to_json(config))

    @staticmethod
    def from_spec(spec):
        margo = spec.margo[0] if isinstance(spec.margo, list) else spec.margo
        address = margo.mercury.address if hasattr(margo, "mercury") else str(margo)
        return Server(address=address, config=spec.to_json())

    def finalize(self):
        self._internal.finalize()

    def wait_for_finalize(self):
        self._internal.wait_for_finalize()

    @property
    def config(self):
        return json.loads(self._internal.get_config())

    @property
    def spec(self):
        return _spec.ProcSpec.from_dict(self.config)

    @property
    def margo(self):
        return MargoManager(self)

    @property
    def providers(self):
        return ProviderManager(self)

    def query(self, script):
        return json.loads(self._internal.query(script))
