"""Config specifications as attrs classes, each with to_dict/from_dict/to_json/from_json.

They mirror the JSON sections kinako's bedrock reads (see docs/config.md). Unknown keys found
by from_dict are kept in ``extra`` and written back by to_dict, so a round trip loses nothing.
"""

import json

import attrs
from attrs import define, field


class _Spec:
    """to_json/from_json on top of each class's to_dict/from_dict."""

    def to_json(self, *args, **kwargs):
        return json.dumps(self.to_dict(), *args, **kwargs)

    @classmethod
    def from_json(cls, text):
        return cls.from_dict(json.loads(text))


def _plain(cls, data, known):
    """Splits a dict into the known fields of cls and the rest."""
    data = dict(data or {})
    kwargs = {k: data.pop(k) for k in list(data) if k in known}
    return kwargs, data


@define
class PoolSpec(_Spec):
    name: str
    kind: str = "fifo_wait"
    access: str = "mpmc"

    def to_dict(self):
        return {"name": self.name, "kind": self.kind, "access": self.access}

    @classmethod
    def from_dict(cls, data):
        kw, _ = _plain(cls, data, {"name", "kind", "access"})
        return cls(**kw)


@define
class SchedulerSpec(_Spec):
    type: str = "basic_wait"
    pools: list = field(factory=list)

    def to_dict(self):
        return {"type": self.type, "pools": [p.name if isinstance(p, PoolSpec) else p for p in self.pools]}

    @classmethod
    def from_dict(cls, data):
        kw, _ = _plain(cls, data, {"type", "pools"})
        return cls(**kw)


@define
class XstreamSpec(_Spec):
    name: str
    scheduler: SchedulerSpec = field(factory=SchedulerSpec)
    cpubind: int = -1
    affinity: list = field(factory=list)

    def to_dict(self):
        d = {"name": self.name, "scheduler": self.scheduler.to_dict()}
        if self.cpubind >= 0:
            d["cpubind"] = self.cpubind
        if self.affinity:
            d["affinity"] = list(self.affinity)
        return d

    @classmethod
    def from_dict(cls, data):
        kw, _ = _plain(cls, data, {"name", "scheduler", "cpubind", "affinity"})
        if "scheduler" in kw:
            kw["scheduler"] = SchedulerSpec.from_dict(kw["scheduler"])
        return cls(**kw)


@define
class ArgobotsSpec(_Spec):
    pools: list = field(factory=list)
    xstreams: list = field(factory=list)
    extra: dict = field(factory=dict)

    def to_dict(self):
        d = dict(self.extra)
        d["pools"] = [p.to_dict() for p in self.pools]
        d["xstreams"] = [x.to_dict() for x in self.xstreams]
        return d

    @classmethod
    def from_dict(cls, data):
        kw, extra = _plain(cls, data, {"pools", "xstreams"})
        return cls(pools=[PoolSpec.from_dict(p) for p in kw.get("pools", [])],
                   xstreams=[XstreamSpec.from_dict(x) for x in kw.get("xstreams", [])], extra=extra)


@define
class MercurySpec(_Spec):
    address: str = "na+sm"
    extra: dict = field(factory=dict)

    def to_dict(self):
        d = dict(self.extra)
        d["address"] = self.address
        return d

    @classmethod
    def from_dict(cls, data):
        kw, extra = _plain(cls, data, {"address"})
        return cls(extra=extra, **kw)


@define
class PlumberSpec(_Spec):
    bucket_policy: str = "package"
    nic_policy: str = "roundrobin"

    def to_dict(self):
        return {"bucket_policy": self.bucket_policy, "nic_policy": self.nic_policy}

    @classmethod
    def from_dict(cls, data):
        kw, _ = _plain(cls, data, {"bucket_policy", "nic_policy"})
        return cls(**kw)


@define
class MargoSpec(_Spec):
    mercury: MercurySpec = field(factory=MercurySpec)
    argobots: ArgobotsSpec = field(factory=ArgobotsSpec)
    progress_pool: object = None
    rpc_pool: object = None
    extra: dict = field(factory=dict)

    def to_dict(self):
        d = dict(self.extra)
        d["mercury"] = self.mercury.to_dict()
        d["argobots"] = self.argobots.to_dict()
        for k in ("progress_pool", "rpc_pool"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v.name if isinstance(v, PoolSpec) else v
        return d

    @classmethod
    def from_dict(cls, data):
        kw, extra = _plain(cls, data, {"mercury", "argobots", "progress_pool", "rpc_pool"})
        return cls(mercury=MercurySpec.from_dict(kw.get("mercury", {})),
                   argobots=ArgobotsSpec.from_dict(kw.get("argobots", {})),
                   progress_pool=kw.get("progress_pool"), rpc_pool=kw.get("rpc_pool"), extra=extra)


@define
class ProviderSpec(_Spec):
    name: str
    type: str
    provider_id: int = 65535
    tags: list = field(factory=list)
    config: dict = field(factory=dict)
    dependencies: dict = field(factory=dict)

    def to_dict(self):
        return {"name": self.name, "type": self.type, "provider_id": self.provider_id,
                "tags": list(self.tags), "config": self.config, "dependencies": self.dependencies}

    @classmethod
    def from_dict(cls, data):
        kw, _ = _plain(cls, data, {"name", "type", "provider_id", "tags", "config", "dependencies"})
        return cls(**kw)


@define
class BedrockSpec(_Spec):
    pool: object = None
    provider_id: int = 0
    dependency_resolution_timeout: float = 30.0

    def to_dict(self):
        d = {"provider_id": self.provider_id,
             "dependency_resolution_timeout": self.dependency_resolution_timeout}
        if self.pool is not None:
            d["pool"] = self.pool.name if isinstance(self.pool, PoolSpec) else self.pool
        return d

    @classmethod
    def from_dict(cls, data):
        kw, _ = _plain(cls, data, {"pool", "provider_id", "dependency_resolution_timeout"})
        return cls(**kw)


@define
class ProcSpec(_Spec):
    margo: object = field(factory=MargoSpec)
    providers: list = field(factory=list)
    libraries: list = field(factory=list)
    bedrock: BedrockSpec = field(factory=BedrockSpec)

    def __attrs_post_init__(self):
        if isinstance(self.margo, str):  # ProcSpec(margo="na+sm")
            self.margo = MargoSpec(mercury=MercurySpec(address=self.margo))

    def to_dict(self):
        margo = [m.to_dict() for m in self.margo] if isinstance(self.margo, list) else self.margo.to_dict()
        return {"margo": margo, "providers": [p.to_dict() for p in self.providers],
                "libraries": list(self.libraries), "bedrock": self.bedrock.to_dict()}

    @classmethod
    def from_dict(cls, data):
        data = dict(data or {})
        margo = data.get("margo", {})
        margo = [MargoSpec.from_dict(m) for m in margo] if isinstance(margo, list) else MargoSpec.from_dict(margo)
        libs = data.get("libraries", [])
        if isinstance(libs, dict):
            libs = list(libs.values())
        elif isinstance(libs, str):
            libs = [libs]
        return cls(margo=margo, providers=[ProviderSpec.from_dict(p) for p in data.get("providers", [])],
                   libraries=libs, bedrock=BedrockSpec.from_dict(data.get("bedrock", {})))


@define
class ServiceSpec(_Spec):
    """A service made of several processes."""

    processes: list = field(factory=list)

    def to_dict(self):
        return {"processes": [p.to_dict() for p in self.processes]}

    @classmethod
    def from_dict(cls, data):
        return cls(processes=[ProcSpec.from_dict(p) for p in (data or {}).get("processes", [])])


__all__ = ["PoolSpec", "SchedulerSpec", "XstreamSpec", "ArgobotsSpec", "MercurySpec", "PlumberSpec",
           "MargoSpec", "ProviderSpec", "BedrockSpec", "ProcSpec", "ServiceSpec"]
_ = attrs
