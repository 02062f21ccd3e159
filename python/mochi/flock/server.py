"""The flock provider (group membership server)."""

import json

import pyflock_server

from .view import GroupView

FlockException = pyflock_server.FlockException


class Provider:
    """``Provider(engine, provider_id, config, initial_view)``. Without a view, the config's
    "bootstrap" method(s) build it (self, file, join; mpi only inside the bedrock command)."""

    def __init__(self, engine, provider_id, config="{}", initial_view=None, pool=""):
        if isinstance(config, dict):
            config = json.dumps(config)
        mid = engine.get_internal_mid() if hasattr(engine, "get_internal_mid") else engine
        if initial_view is None:
            self._internal = pyflock_server.Provider.bootstrap(mid, int(provider_id), config, str(getattr(pool, "name", pool)))
        else:
            self._internal = pyflock_server.Provider(mid, int(provider_id), config, initial_view.to_json(),
                                               str(getattr(pool, "name", pool)))

    @property
    def config(self):
        return json.loads(self._internal.config())

    @property
    def view(self):
        return GroupView.from_json(self._internal.view())
