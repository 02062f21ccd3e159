"""Flock clients: a GroupHandle keeps a view of a group and refreshes it from live members."""

import pyflock_client
from mochi.margo.core import Engine, client as _client_mode

from .view import GroupView

FlockException = pyflock_client.FlockException


class Client:
    def __init__(self, arg):
        if isinstance(arg, Engine):
            self._engine = arg
        elif isinstance(arg, str):
            self._engine = Engine(arg, _client_mode)
        else:
            raise TypeError("Client expects a mochi.margo Engine or a protocol string")

    @property
    def engine(self):
        return self._engine

    def make_group_handle(self, address, provider_id=0):
        return GroupHandle(self, pyflock_client.GroupHandle(self._engine.mid, str(address), int(provider_id)))

    def make_group_handle_from_file(self, filename):
        return GroupHandle(self, pyflock_client.GroupHandle.from_file(self._engine.mid, str(filename)))

    def make_group_handle_from_serialized(self, serialized):
        return GroupHandle(self, pyflock_client.GroupHandle.from_serialized(self._engine.mid, str(serialized)))


class GroupHandle:
    def __init__(self, client, internal):
        self._client = client
        self._internal = internal

    @property
    def client(self):
        return self._client

    def update(self):
        self._internal.update()

    @property
    def view(self):
        return GroupView.from_json(self._internal.view())
