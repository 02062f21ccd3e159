"""Clients of bedrock servers: ServiceHandle (one server) and ServiceGroupHandle (many)."""

import json

import pybedrock_client
# py-mochi-bedrock imports the legacy name; pymargo.core is the very module mochi.margo.core.
import pymargo.core  # noqa: F401
from mochi.margo.core import Engine, client as _client_mode

from . import spec as _spec

ClientException = pybedrock_client.ClientException

# Per-RPC timeout of the handles, in milliseconds: a dead server fails the call with a
# ClientException instead of blocking forever.
DEFAULT_TIMEOUT_MS = 30000.0


def _to_json(config):
    if isinstance(config, str):
        return config
    if isinstance(config, (dict, list)):
        return json.dumps(config)
    if hasattr(config, "to_json"):
        return config.to_json()
    raise TypeError(f"expected a JSON string, a dict or a spec, got {type(config).__name__}")


class Client:
    """``Client(engine)`` or ``Client("tcp")`` (then the client owns a client-mode engine)."""

    def __init__(self, arg):
        if isinstance(arg, Engine):
            self._engine = arg
            self._owns_engine = False
        elif isinstance(arg, str):
            self._engine = Engine(arg, _client_mode)
            self._owns_engine = True
        else:
            raise TypeError("Client expects a mochi.margo Engine or a protocol string")

    @property
    def mid(self):
        return self._engine.get_internal_mid()

    @property
    def engine(self):
        return self._engine

    def make_service_handle(self, address, provider_id=0, timeout=DEFAULT_TIMEOUT_MS):
        return ServiceHandle(self, str(address), provider_id, timeout)

    def make_service_group_handle(self, addresses, provider_id=0, timeout=DEFAULT_TIMEOUT_MS):
        if isinstance(addresses, str):
            addresses = [addresses]
        return ServiceGroupHandle(self, [str(a) for a in addresses], provider_id, timeout=timeout)

    def make_service_group_handle_from_flock(self, groupfile, provider_id=0, timeout=DEFAULT_TIMEOUT_MS):
        return ServiceGroupHandle(self, None, provider_id, groupfile=str(groupfile), timeout=timeout)

    def finalize(self):
        if self._owns_engine:
            self._engine.finalize()


class ServiceHandle:
    def __init__(self, client, address, provider_id=0, timeout=DEFAULT_TIMEOUT_MS):
        self._client = client
        self._internal = pybedrock_client.ServiceHandle(client.mid, address, provider_id, float(timeout))

    @property
    def client(self):
        return self._client

    @property
    def address(self):
        return self._internal.address

    @property
    def provider_id(self):
        return self._internal.provider_id

    @property
    def config(self):
        return json.loads(self._internal.get_config())

    @property
    def spec(self):
        return _spec.ProcSpec.from_dict(self.config)

    def query(self, script):
        return json.loads(self._internal.query(script))

    def load_module(self, path):
        self._internal.load_module(str(path))

    def add_pool(self, config):
        self._internal.add_pool(_to_json(config))

    def remove_pool(self, name):
        self._internal.remove_pool(getattr(name, "name", name))

    def add_xstream(self, config):
        self._internal.add_xstream(_to_json(config))

    def remove_xstream(self, name):
        self._internal.remove_xstream(getattr(name, "name", name))

    def add_provider(self, description):
        """Starts a provider from a description (str, dict or ProviderSpec); returns its id."""
        return self._internal.add_provider(_to_json(description))

    def lookup_provider(self, locator):
        return json.loads(self._internal.lookup_provider(locator))

    def shutdown(self):
        """Asks the server process to stop."""
        self._internal.shutdown()

    def __repr__(self):
        return f"<bedrock ServiceHandle {self.address} (provider {self.provider_id})>"


class ServiceGroupHandle:
    """Handles on several servers (a list of addresses, or the members of a flock group file)."""

    def __init__(self, client, addresses, provider_id=0, groupfile=None, timeout=DEFAULT_TIMEOUT_MS):
        self._client = client
        self._provider_id = provider_id
        self._groupfile = groupfile
        self._addresses = list(addresses) if addresses is not None else []
        self._timeout = timeout
        self._handles = {}
        self.refresh()

    def refresh(self):
        """Re-reads the group file (when the group came from one)."""
        if self._groupfile is not None:
            view = json.loads(pybedrock_client.load_group_file(self._groupfile))
            addresses = []
            for m in view["members"]:
                if m["address"] not in addresses:
                    addresses.append(m["address"])
            self._addresses = addresses
        self._handles = {a: h for a, h in self._handles.items() if a in self._addresses}

    @property
    def client(self):
        return self._client

    @property
    def addresses(self):
        return list(self._addresses)

    @property
    def size(self):
        return len(self._addresses)

    def __len__(self):
        return len(self._addresses)

    def __getitem__(self, index):
        if not isinstance(index, int) or index < 0 or index >= len(self._addresses):
            raise ClientException(f"service group index {index!r} out of range (size {len(self)})")
        address = self._addresses[index]
        if address not in self._handles:
            self._handles[address] = ServiceHandle(self._client, address, self._provider_id, self._timeout)
        return self._handles[address]

    def __iter__(self):
        return iter([self[i] for i in range(len(self))])

    @property
    def config(self):
        return {h.address: h.config for h in self}

    @property
    def spec(self):
        return {h.address: h.spec for h in self}

    def query(self, script):
        return {h.address: h.query(script) for h in self}
