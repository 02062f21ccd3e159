"""ConfigSpace description of Warabi provider configurations, for autotuning.

``WarabiSpaceBuilder`` is a ``mochi.bedrock.spec.ProviderConfigSpaceBuilder``: give it to
``ProcSpec.space(provider_space_factories=[{"family": "storage", "builder":
WarabiSpaceBuilder(...)}])`` and every sampled configuration turns into Warabi providers whose
config is ``{"target": {"type", "config"}, "transfer_manager": {"type", "config"}}``, with a
``pool`` dependency.

Hyperparameters (under the provider's prefix, as upstream): ``pool``, ``type`` (memory, abtio,
pmdk), ``path`` (when a file target is possible), ``tm.type`` (__default__, pipeline) and, for
the pipeline transfer manager, ``tm.pipeline.num_pools``, ``tm.pipeline.num_buffers_per_pool``,
``tm.pipeline.first_buffer_size`` and ``tm.pipeline.buffer_size_multiplier``.

Needs the ConfigSpace package (``pip install ConfigSpace``).
"""

import os
from dataclasses import dataclass

from mochi.bedrock.config_space import (
    CS,
    CategoricalChoice,
    CategoricalOrConst,
    Config,
    ProviderConfigSpaceBuilder,
    ProviderSpec,
    _configspace,
    _is_int,
    _number_hp,
    _plain_value,
)

_configspace()  # a missing ConfigSpace is reported here, with the pip command


@dataclass(frozen=True)
class BackendType:
    name: str
    is_persistent: bool = True


#: Target types kinako's warabi provides (src/warabi/targets/).
BACKENDS = {b.name: b for b in [BackendType("memory", is_persistent=False), BackendType("abtio"),
                                BackendType("pmdk")]}
#: Transfer manager types kinako's warabi provides (src/warabi/transfer/).
TRANSFER_MANAGERS = ("__default__", "pipeline")
#: Smallest pmdk pool (PMEMOBJ_MIN_POOL): the least initial_size for pmdk targets.
PMDK_MIN_POOL_SIZE = 8 << 20
_PIPELINE_KEYS = ("num_pools", "num_buffers_per_pool", "first_buffer_size", "buffer_size_multiplier")


def _upper(value):
    if isinstance(value, tuple):
        return value[1]
    if isinstance(value, list):
        return max(value)
    return value


class WarabiSpaceBuilder(ProviderConfigSpaceBuilder):
    """Builds the hyperparameters of a Warabi provider (same constructor keywords as upstream).

    - `types`: target types to choose from (memory, abtio, pmdk); an unknown one is a ValueError.
    - `paths`: directories for file targets (abtio, pmdk). The target file of provider
      ``<name>`` is ``<path>/<name>.<type>`` (kinako design: upstream uses the path as is, so two
      providers could share a file). The directories must exist. Without paths, file targets are left out (naming one
      explicitly is then a ValueError). File targets are created, or overwritten if present.
    - `initial_size`: size of a new pmdk pool, at least 8 MiB.
    - `need_persistence`: keep only file targets.
    - `transfer_managers`: among "__default__" and "pipeline".
    - `pipeline_num_pools` (1..64), `pipeline_num_buffers_per_pool` (>= 1),
      `pipeline_first_buffer_size` (bytes, >= 1) and `pipeline_buffer_size_multiplier` (> 1, int
      or float): an int (a float for the multiplier), a (min, max) tuple (log scale when wide) or
      a list of values. They are active only when the pipeline manager is chosen.
    - `tags`: tags of the providers.
    """

    _backends = list(BACKENDS.values())

    def __init__(self, *, types=("memory", "abtio", "pmdk"), paths=(), initial_size=10485760,
                 need_persistence=False, transfer_managers=("__default__", "pipeline"), pipeline_num_pools=1,
                 pipeline_num_buffers_per_pool=8, pipeline_first_buffer_size=1024,
                 pipeline_buffer_size_multiplier=2, tags=()):
        names = [types] if isinstance(types, str) else list(types)
        explicit = names != ["memory", "abtio", "pmdk"]
        if not names:
            raise ValueError("WarabiSpaceBuilder: types is empty")
        for n in names:
            if n not in BACKENDS:
                raise ValueError(f"WarabiSpaceBuilder: unknown target type {n!r} (known: {', '.join(BACKENDS)})")
        self.paths = [paths] if isinstance(paths, str) else list(paths)
        if need_persistence and not self.paths:
            raise ValueError("WarabiSpaceBuilder: paths must be given when need_persistence is set")
        kept = []
        for n in names:
            b = BACKENDS[n]
            if need_persistence and not b.is_persistent:
                continue
            if b.is_persistent and not self.paths:
                if explicit:
                    raise ValueError(f"WarabiSpaceBuilder: target type {n!r} is file-backed and needs paths")
                continue
            if b not in kept:
                kept.append(b)
        if not kept:
            raise ValueError(f"WarabiSpaceBuilder: no target type among {names} meets the requirements")
        self.types = kept
        if not _is_int(initial_size) or initial_size < PMDK_MIN_POOL_SIZE:
            raise ValueError(f"WarabiSpaceBuilder: initial_size must be an integer >= {PMDK_MIN_POOL_SIZE} "
                             f"(the smallest pmdk pool), got {initial_size!r}")
        self.initial_size = initial_size
        tms = [transfer_managers] if isinstance(transfer_managers, str) else list(transfer_managers)
        if not tms:
            raise ValueError("WarabiSpaceBuilder: transfer_managers is empty")
        for t in tms:
            if t not in TRANSFER_MANAGERS:
                raise ValueError(f"WarabiSpaceBuilder: unknown transfer manager {t!r} "
                                 f"(known: {', '.join(TRANSFER_MANAGERS)})")
        self.transfer_managers = list(dict.fromkeys(tms))
        self.tags = [tags] if isinstance(tags, str) else list(tags)
        self.pipeline_num_pools = pipeline_num_pools
        self.pipeline_num_buffers_per_pool = pipeline_num_buffers_per_pool
        self.pipeline_first_buffer_size = pipeline_first_buffer_size
        self.pipeline_buffer_size_multiplier = pipeline_buffer_size_multiplier
        self._pipeline_hps()  # bad values fail here rather than in a space
        if "pipeline" in self.transfer_managers:
            # kinako's pipeline manager refuses buffer pools above 16 GiB in all; the sampled
            # values are not checked one by one, so the largest combination must fit.
            n, per, size, mult = (_upper(v) for v in (pipeline_num_pools, pipeline_num_buffers_per_pool,
                                                      pipeline_first_buffer_size, pipeline_buffer_size_multiplier))
            total, s = 0, float(size)
            for _ in range(int(n)):
                total += s * per
                s *= mult
            if total > float(1 << 34):
                raise ValueError("WarabiSpaceBuilder: with the largest pipeline values the staging buffers would "
                                 f"take {total / (1 << 30):.1f} GiB, above the 16 GiB kinako allows; narrow the ranges")

    @property
    def type_names(self):
        return [b.name for b in self.types]

    def _pipeline_hps(self):
        m = self.pipeline_buffer_size_multiplier
        ints = _is_int(m) or (isinstance(m, (tuple, list)) and all(_is_int(v) for v in m))
        return [
            _number_hp("tm.pipeline.num_pools", self.pipeline_num_pools, what="pipeline_num_pools",
                       minimum=1, maximum=64),
            _number_hp("tm.pipeline.num_buffers_per_pool", self.pipeline_num_buffers_per_pool,
                       what="pipeline_num_buffers_per_pool", minimum=1),
            _number_hp("tm.pipeline.first_buffer_size", self.pipeline_first_buffer_size,
                       what="pipeline_first_buffer_size", minimum=1),
            _number_hp("tm.pipeline.buffer_size_multiplier", m, what="pipeline_buffer_size_multiplier",
                       minimum=2 if ints else 1.0 + 1e-9, integer=ints),
        ]

    def set_provider_hyperparameters(self, configuration_space: CS) -> None:
        CSmod = _configspace()
        configuration_space.add(CategoricalChoice("pool", num_options=configuration_space["margo.argobots.num_pools"]))
        hp_type = CategoricalOrConst("type", self.type_names)
        configuration_space.add(hp_type)
        persistent = [b.name for b in self.types if b.is_persistent]
        if persistent:
            hp_path = CategoricalOrConst("path", self.paths)
            configuration_space.add(hp_path)
            if len(persistent) < len(self.types):
                configuration_space.add(CSmod.InCondition(hp_path, hp_type, persistent))
        hp_tm = CategoricalOrConst("tm.type", self.transfer_managers)
        configuration_space.add(hp_tm)
        if "pipeline" in self.transfer_managers:
            for hp in self._pipeline_hps():
                configuration_space.add(hp)
                if len(self.transfer_managers) > 1:
                    configuration_space.add(CSmod.EqualsCondition(hp, hp_tm, "pipeline"))

    def resolve_to_provider_spec(self, name: str, provider_id: int, config: Config, prefix: str) -> ProviderSpec:
        target_type = str(_plain_value(config[prefix + "type"]))
        target_config = {}
        if BACKENDS[target_type].is_persistent:
            target_config["path"] = os.path.join(str(_plain_value(config[prefix + "path"])), f"{name}.{target_type}")
            target_config["override_if_exists"] = True
            if target_type == "pmdk":
                target_config["create_if_missing_with_size"] = self.initial_size
            else:
                target_config["create_if_missing"] = True
        tm_type = str(_plain_value(config[prefix + "tm.type"]))
        tm_config = {}
        if tm_type == "pipeline":
            tm_config = {k: _plain_value(config[f"{prefix}tm.pipeline.{k}"]) for k in _PIPELINE_KEYS}
        cfg = {"target": {"type": target_type, "config": target_config},
               "transfer_manager": {"type": tm_type, "config": tm_config}}
        return ProviderSpec(name=name, type="warabi", provider_id=provider_id, tags=list(self.tags), config=cfg,
                            dependencies={"pool": int(_plain_value(config[prefix + "pool"]))})


__all__ = ["BackendType", "BACKENDS", "TRANSFER_MANAGERS", "WarabiSpaceBuilder"]
