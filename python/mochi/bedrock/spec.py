"""Config specifications as attrs classes, each with to_dict/from_dict/to_json/from_json.

They mirror the JSON sections kinako's bedrock reads (see docs/config.md). Unknown keys found
by from_dict are kept in ``extra`` and written back by to_dict, so a round trip loses nothing.

Autotuning: PoolSpec, SchedulerSpec, XstreamSpec, ArgobotsSpec, MercurySpec, MargoSpec,
ProviderSpec and ProcSpec also have ``space(...)``, which returns a ConfigSpace
``ConfigurationSpace`` describing a family of such specs, and ``from_config(...)``, which turns
one sampled ``Configuration`` back into a spec. Hyperparameter names follow py-mochi-bedrock
(``margo.argobots.num_pools``, ``margo.argobots.pools[0].kind``,
``margo.argobots.xstreams[1].scheduler.pool_association_weight[0]``, ``margo.rpc_pool``,
``providers.<family>.num_providers``, ``providers.<family>[i].<param>``...). Providers enter a
process space through a ``ProviderConfigSpaceBuilder`` (see mochi.yokan.config_space and
mochi.warabi.config_space). ConfigSpace is only imported when one of these is called
(``pip install ConfigSpace``), so the rest of this module works without it. See the
"Autotuning spaces" section of docs/config.md.
"""

import json

import attrs
from attrs import define, field

#: Pool kinds kinako's engine accepts (src/margo/config.cpp), without "external": the
#: choices of PoolSpec.space() and friends.
POOL_KINDS = ("fifo_wait", "fifo", "prio_wait", "earliest_first")
#: Scheduler types kinako's engine accepts: the choices of SchedulerSpec.space() and friends.
SCHEDULER_TYPES = ("basic_wait", "default", "basic", "prio", "randws")


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

    @staticmethod
    def space(pool_kinds=POOL_KINDS):
        """Space with one hyperparameter, ``kind`` (a choice among `pool_kinds`)."""
        draft = _cs()._Draft()
        _cs()._pool_space(draft, "", pool_kinds)
        return draft.build()

    @classmethod
    def from_config(cls, name, config, prefix="", access="mpmc"):
        return cls(name=name, kind=str(_cs()._plain_value(config[f"{prefix}kind"])), access=access)


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

    @staticmethod
    def space(max_num_pools=1, scheduler_types=SCHEDULER_TYPES, pool_association_weights=(-1.0, 1.0)):
        """Hyperparameters ``type`` and ``pool_association_weight[i]`` for i < max_num_pools.

        A weight is a number, a (min, max) range, or a list with one of those per pool. The
        scheduler runs the pools whose weight is > 0, or the single highest-weighted pool."""
        draft = _cs()._Draft()
        _cs()._scheduler_space(draft, "", max_num_pools, scheduler_types, pool_association_weights)
        return draft.build()

    @classmethod
    def from_config(cls, pools, config, prefix=""):
        """`pools` are the candidate pools (PoolSpecs or names), in the order of the weights."""
        if not pools:
            raise ValueError("SchedulerSpec.from_config: needs at least one pool")
        names = [p.name if isinstance(p, PoolSpec) else p for p in pools]
        weights = [(float(_cs()._plain_value(config[f"{prefix}pool_association_weight[{i}]"])), i)
                   for i in range(len(names))]
        chosen = [names[i] for w, i in weights if w > 0]
        if not chosen:
            chosen = [names[max(weights)[1]]]
        return cls(type=str(_cs()._plain_value(config[f"{prefix}type"])), pools=chosen)


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

    @staticmethod
    def space(max_num_pools=1, scheduler_types=SCHEDULER_TYPES, pool_association_weights=(-1.0, 1.0)):
        """SchedulerSpec.space() under the ``scheduler.`` prefix."""
        draft = _cs()._Draft()
        _cs()._scheduler_space(draft, "scheduler.", max_num_pools, scheduler_types, pool_association_weights)
        return draft.build()

    @classmethod
    def from_config(cls, name, pools, config, prefix=""):
        return cls(name=name, scheduler=SchedulerSpec.from_config(pools, config, prefix=f"{prefix}scheduler."))


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

    @staticmethod
    def space(num_pools=1, num_xstreams=1, pool_kinds=POOL_KINDS, scheduler_types=SCHEDULER_TYPES,
              pool_association_weights=(-1.0, 1.0)):
        """Hyperparameters ``num_pools``, ``num_xstreams`` (an int, or a (min, max) tuple),
        ``pools[i].kind`` and ``xstreams[j].scheduler.type`` /
        ``xstreams[j].scheduler.pool_association_weight[i]``; those of pools and xstreams
        beyond the minimum counts are active only when the count includes them."""
        draft = _cs()._Draft()
        _cs()._argobots_space(draft, "", num_pools, num_xstreams, pool_kinds, scheduler_types, pool_association_weights)
        return draft.build()

    @classmethod
    def from_config(cls, config, prefix="", pool_name_prefix="pool_", xstream_name_prefix="xstream_"):
        """Pools are named <pool_name_prefix><i>; xstream 0 is ``__primary__``, the others
        <xstream_name_prefix><j>. A pool that no scheduler picked is given to the xstream that
        weighs it most, so every pool is run by some xstream."""
        num_pools = int(_cs()._plain_value(config[f"{prefix}num_pools"]))
        num_xstreams = int(_cs()._plain_value(config[f"{prefix}num_xstreams"]))
        pools = [PoolSpec.from_config(f"{pool_name_prefix}{i}", config, prefix=f"{prefix}pools[{i}].")
                 for i in range(num_pools)]
        names = [p.name for p in pools]
        xstreams = [XstreamSpec.from_config("__primary__" if j == 0 else f"{xstream_name_prefix}{j}", names, config,
                                            prefix=f"{prefix}xstreams[{j}].") for j in range(num_xstreams)]
        used = {p for x in xstreams for p in x.scheduler.pools}
        for i, name in enumerate(names):
            if name in used:
                continue
            key = f"{prefix}xstreams[{{}}].scheduler.pool_association_weight[{i}]"
            best = max((float(_cs()._plain_value(config[key.format(j)])), j) for j in range(num_xstreams))[1]
            xstreams[best].scheduler.pools.append(name)
        return cls(pools=pools, xstreams=xstreams)


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

    @staticmethod
    def space(**knobs):
        """Hyperparameters for the mercury keys kinako reads (MERCURY_KEYS: ``eager_size``,
        ``recv_buffers``, ``na_no_block``...), only those given: an integer key takes an int,
        a (min, max) tuple or a list of values; a boolean key True/False or [True, False].
        (kinako design: upstream samples Mercury's own knobs, which kinako's transport does not
        have.)"""
        draft = _cs()._Draft()
        _cs()._mercury_space(draft, "", knobs)
        return draft.build()

    @classmethod
    def from_config(cls, config, prefix="", address="na+sm"):
        extra = {k: _cs()._plain_value(config[prefix + k]) for k in _cs().MERCURY_KEYS if prefix + k in config}
        return cls(address=address, extra=extra)


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

    @staticmethod
    def space(handle_cache_size=32, progress_timeout_ub_msec=100, num_pools=1, num_xstreams=1, **kwargs):
        """ArgobotsSpec.space() under ``argobots.``, MercurySpec.space() under ``mercury.``, plus
        ``handle_cache_size``, ``progress_timeout_ub_msec`` (int, (min, max) or list) and
        ``progress_pool`` / ``rpc_pool`` (pool indices, kept below ``argobots.num_pools``).
        Other keywords go to ArgobotsSpec.space (pool_kinds, scheduler_types,
        pool_association_weights) or MercurySpec.space (MERCURY_KEYS)."""
        draft = _cs()._Draft()
        _cs()._margo_space(draft, "", handle_cache_size, progress_timeout_ub_msec, num_pools, num_xstreams, dict(kwargs))
        return draft.build()

    @classmethod
    def from_config(cls, config, prefix="", address="na+sm", **kwargs):
        """`kwargs` go to ArgobotsSpec.from_config (pool_name_prefix, xstream_name_prefix)."""
        argobots = ArgobotsSpec.from_config(config, prefix=f"{prefix}argobots.", **kwargs)
        mercury = MercurySpec.from_config(config, prefix=f"{prefix}mercury.", address=address)
        names = [p.name for p in argobots.pools]
        extra = {k: _cs()._plain_value(config[prefix + k]) for k in ("handle_cache_size", "progress_timeout_ub_msec")
                 if prefix + k in config}
        return cls(mercury=mercury, argobots=argobots,
                   progress_pool=names[int(_cs()._plain_value(config[f"{prefix}progress_pool"]))],
                   rpc_pool=names[int(_cs()._plain_value(config[f"{prefix}rpc_pool"]))], extra=extra)


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

    @staticmethod
    def space(builder, num_pools=1):
        """The space of one provider described by `builder` (a ProviderConfigSpaceBuilder, e.g.
        mochi.yokan.config_space.YokanSpaceBuilder), on its own. The builder's hyperparameters
        keep their plain names; ``margo.argobots.num_pools`` (an int or a (min, max) tuple) is
        there for builders that choose a pool. Inside a process, use ProcSpec.space instead."""
        return _cs()._ProviderSpec_space(builder, num_pools)

    @classmethod
    def from_config(cls, name, provider_id, config, prefix="", builder=None, pools=None):
        """Asks `builder` (by default the one recorded by ProviderSpec.space) for the spec. With
        `pools` (PoolSpecs or names), an integer "pool" dependency becomes that pool's name."""
        builder = builder if builder is not None else _cs()._space_meta(config).get("builder")
        if builder is None:
            raise ValueError("ProviderSpec.from_config: no builder given, and none recorded in the "
                             "configuration's space")
        _cs()._check_builder(builder, "ProviderSpec.from_config")
        spec = builder.resolve_to_provider_spec(name, provider_id, config, prefix)
        if not isinstance(spec, ProviderSpec):
            raise TypeError(f"{type(builder).__name__}.resolve_to_provider_spec returned {type(spec).__name__}, "
                            "not a ProviderSpec")
        return _cs()._pool_names_in(spec, pools)


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

    @staticmethod
    def space(*, provider_space_factories=(), **kwargs):
        """Space of whole process configs: MargoSpec.space(**kwargs) under ``margo.``, and per
        entry ``{"family": name, "builder": ProviderConfigSpaceBuilder, "count": int or
        (min, max)}`` of `provider_space_factories` a ``providers.<family>.num_providers``
        hyperparameter and the builder's hyperparameters under ``providers.<family>[i].``.
        The factories are recorded in the space's ``meta`` for from_config."""
        return _cs()._ProcSpec_space(provider_space_factories, dict(kwargs))

    @classmethod
    def from_config(cls, config, prefix="", address="na+sm", provider_space_factories=None, **kwargs):
        """Providers are named <family>_<i> and numbered from provider id 1, family by family.
        `provider_space_factories` defaults to those recorded in the configuration's space (give
        them when the space was nested in another one, or read back from a file). `kwargs` go to
        MargoSpec.from_config."""
        return _cs()._ProcSpec_from_config(cls, config, prefix, address, provider_space_factories, kwargs)


@define
class ServiceSpec(_Spec):
    """A service made of several processes."""

    processes: list = field(factory=list)

    def to_dict(self):
        return {"processes": [p.to_dict() for p in self.processes]}

    @classmethod
    def from_dict(cls, data):
        return cls(processes=[ProcSpec.from_dict(p) for p in (data or {}).get("processes", [])])


# --------------------------------------------------------------------------------------------
# ConfigSpace support (autotuning). Everything below imports ConfigSpace only when called.
# --------------------------------------------------------------------------------------------


def _cs():
    """The ConfigSpace machinery (mochi.bedrock.config_space), imported on first use: it refers
    back to the classes above, and this module must import without ConfigSpace."""
    from . import config_space

    return config_space


_SPACE_NAMES = ('MERCURY_KEYS', 'ProviderConfigSpaceBuilder', 'CS', 'Config', 'CategoricalOrConst', 'IntegerOrConst', 'FloatOrConst', 'CategoricalChoice')


def __getattr__(name):
    # The builder protocol and hyperparameter helpers live in config_space (upstream's home
    # for them); they stay reachable from here as well.
    if name in _SPACE_NAMES:
        return getattr(_cs(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PoolSpec", "SchedulerSpec", "XstreamSpec", "ArgobotsSpec", "MercurySpec", "PlumberSpec",
           "MargoSpec", "ProviderSpec", "BedrockSpec", "ProcSpec", "ServiceSpec"] + list(_SPACE_NAMES)
_ = attrs
