"""GroupView: the members (address, provider id) of a group and its metadata."""

import contextlib
import json
import threading


class MemberList:
    def __init__(self):
        self._members = []

    def add(self, address, provider_id):
        item = (str(address), int(provider_id))
        if item not in self._members:
            self._members.append(item)

    def remove(self, *args):
        """remove(index) or remove(address, provider_id)."""
        if len(args) == 1 and isinstance(args[0], int):
            del self._members[args[0]]
            return
        item = (str(args[0]), int(args[1]))
        if item not in self._members:
            raise KeyError(f"no member {item}")
        self._members.remove(item)

    def exists(self, address, provider_id):
        return (str(address), int(provider_id)) in self._members

    def __contains__(self, item):
        return (str(item[0]), int(item[1])) in self._members

    def __len__(self):
        return len(self._members)

    def __getitem__(self, i):
        return Member(*self._members[i])

    def __iter__(self):
        return iter([Member(*m) for m in self._members])

    def clear(self):
        self._members.clear()


class Member:
    def __init__(self, address, provider_id):
        self.address = address
        self.provider_id = provider_id

    def __iter__(self):
        return iter((self.address, self.provider_id))

    def __eq__(self, other):
        return tuple(self) == tuple(other)

    def __repr__(self):
        return f"Member({self.address!r}, {self.provider_id})"


class MetadataDict:
    def __init__(self):
        self._data = {}

    def add(self, key, value):
        self._data[str(key)] = str(value)

    def remove(self, key):
        del self._data[key]

    def __getitem__(self, key):
        return self._data[key]

    def __contains__(self, key):
        return key in self._data

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return iter(self._data.items())


class GroupView:
    def __init__(self):
        self._members = MemberList()
        self._metadata = MetadataDict()
        self._lock = threading.RLock()

    @property
    def members(self):
        return self._members

    @property
    def metadata(self):
        return self._metadata

    @contextlib.contextmanager
    def locked(self):
        with self._lock:
            yield self

    def to_json(self):
        return json.dumps({"members": [{"address": a, "provider_id": p} for a, p in self._members._members],
                           "metadata": dict(self._metadata._data)})

    def __str__(self):
        return self.to_json()

    @classmethod
    def from_json(cls, text):
        data = json.loads(text)
        v = cls()
        for m in data.get("members", []):
            v.members.add(m["address"], m.get("provider_id", 0))
        for k, val in data.get("metadata", {}).items():
            v.metadata.add(k, val if isinstance(val, str) else json.dumps(val))
        return v
