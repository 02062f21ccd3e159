"""ConfigSpace description of Yokan provider configurations, for autotuning.

``YokanSpaceBuilder`` is a ``mochi.bedrock.spec.ProviderConfigSpaceBuilder``: give it to
``ProcSpec.space(provider_space_factories=[{"family": "db", "builder": YokanSpaceBuilder(...),
"count": (1, 2)}])`` and every sampled configuration turns into Yokan providers whose config is
``{"database": {"type": <backend>, "config": {...}}}``, with a ``pool`` dependency.

Hyperparameters (under the provider's prefix, as upstream): ``pool`` (index of a pool of the
process), ``type`` (the backend) and, when persistent backends are possible, ``path``.
kinako additions: ``<backend>.<key>`` for the backend settings passed in
``backend_hyperparameters``.

Needs the ConfigSpace package (``pip install ConfigSpace``).
"""

import os
import warnings
from dataclasses import dataclass

from mochi.bedrock.config_space import (
    CS,
    CategoricalChoice,
    CategoricalOrConst,
    Config,
    ProviderConfigSpaceBuilder,
    ProviderSpec,
    _bool_hp,
    _configspace,
    _number_hp,
    _plain_value,
)

_configspace()  # a missing ConfigSpace is reported here, with the pip command


@dataclass(frozen=True)
class BackendType:
    """What a tuner may need to know about a backend."""

    name: str
    is_sorted: bool = True
    has_values: bool = True
    is_persistent: bool = True
    has_collections: bool = True
    has_keyval: bool = True


#: The backends kinako knows; only those compiled in (mochi.yokan.backends.available_backends)
#: are offered. "null" (stores nothing) is left out unless asked for by name.
BACKENDS = {
    b.name: b
    for b in [
        BackendType("map", is_persistent=False),
        BackendType("unordered_map", is_sorted=False, is_persistent=False),
        BackendType("set", is_persistent=False, has_values=False, has_collections=False),
        BackendType("unordered_set", is_sorted=False, is_persistent=False, has_values=False, has_collections=False),
        BackendType("rocksdb"),
        BackendType("leveldb"),
        BackendType("lmdb"),
        BackendType("log", has_keyval=False),
        BackendType("array", is_persistent=False, has_keyval=False),
        BackendType("null", is_persistent=False),
    ]
}
_DEFAULT_TYPES = [n for n in BACKENDS if n != "null"]

#: Backend settings that can be tuned through backend_hyperparameters, with their kind
#: (int, float or bool) and minimum, as the backends check them (src/yokan/backends/).
BACKEND_PARAMETERS = {
    "map": {"use_lock": (bool, None)},
    "set": {"use_lock": (bool, None)},
    "unordered_map": {"use_lock": (bool, None), "initial_bucket_count": (int, 1)},
    "unordered_set": {"use_lock": (bool, None), "initial_bucket_count": (int, 1)},
    "array": {"use_lock": (bool, None)},
    "rocksdb": {"write_buffer_size": (int, 1), "max_open_files": (int, -1), "max_background_jobs": (int, 1),
                "paranoid_checks": (bool, None), "use_fsync": (bool, None),
                "disable_auto_compactions": (bool, None)},
    "leveldb": {"write_buffer_size": (int, 1), "max_open_files": (int, 1), "block_size": (int, 1),
                "block_restart_interval": (int, 1), "max_file_size": (int, 1), "compression": (bool, None),
                "paranoid_checks": (bool, None), "reuse_logs": (bool, None)},
    "lmdb": {"map_size": (int, 1), "no_sync": (bool, None), "no_lock": (bool, None)},
    "log": {"chunk_size": (int, 4096), "cache_size": (int, 1), "msync_interval": (int, 0), "sync": (bool, None)},
    "null": {},
}


class YokanSpaceBuilder(ProviderConfigSpaceBuilder):
    """Builds the hyperparameters of a Yokan provider (same constructor keywords as upstream).

    - `types`: backends to choose from (default: every backend compiled in, except "null").
      A name kinako does not know is a ValueError; a known one that is not compiled in is
      dropped with a warning.
    - `paths`: directories for persistent backends (rocksdb, leveldb, lmdb, log). The database
      of provider ``<name>`` goes to ``<path>/<name>``, so providers sharing a directory never
      share a database (kinako design: upstream uses the path as is). Without paths, persistent
      backends are left out (naming one explicitly is then a ValueError).
    - `need_sorted_db`, `need_values`, `need_persistence`, `need_collections`, `need_keyval`:
      keep only the backends with these properties (see BACKENDS).
    - `tags`: tags of the providers.
    - `backend_hyperparameters` (kinako addition): ``{backend: {key: value}}`` for the keys of
      BACKEND_PARAMETERS; an int key takes an int, a (min, max) tuple (log scale when wide) or a
      list, a bool key True/False or [True, False]. They become ``<backend>.<key>``
      hyperparameters, active when that backend is chosen.
    """

    _backends = list(BACKENDS.values())

    def __init__(self, *, types=None, paths=(), need_sorted_db=True, need_values=True, need_persistence=False,
                 need_collections=True, need_keyval=True, tags=(), backend_hyperparameters=None):
        from .backends import available_backends

        explicit = types is not None
        names = list(_DEFAULT_TYPES if types is None else ([types] if isinstance(types, str) else types))
        if not names:
            raise ValueError("YokanSpaceBuilder: types is empty")
        for n in names:
            if n not in BACKENDS and n not in available_backends:
                raise ValueError(f"YokanSpaceBuilder: unknown backend type {n!r} "
                                 f"(this build has: {', '.join(sorted(available_backends))})")
        self.paths = [paths] if isinstance(paths, str) else list(paths)
        if need_persistence and not self.paths:
            raise ValueError("YokanSpaceBuilder: paths must be given when need_persistence is set")
        missing = [n for n in names if n not in available_backends]
        if missing and explicit:
            warnings.warn(f"YokanSpaceBuilder: backend(s) {', '.join(missing)} not compiled in, left out")
        kept = []
        for n in names:
            b = BACKENDS.get(n, BackendType(n))
            if n not in available_backends:
                continue
            if (need_sorted_db and not b.is_sorted) or (need_values and not b.has_values) \
                    or (need_persistence and not b.is_persistent) or (need_collections and not b.has_collections) \
                    or (need_keyval and not b.has_keyval):
                continue
            if b.is_persistent and not self.paths:
                if explicit:
                    raise ValueError(f"YokanSpaceBuilder: backend {n!r} is persistent and needs paths")
                continue
            if b not in kept:
                kept.append(b)
        if not kept:
            raise ValueError(f"YokanSpaceBuilder: no backend among {names} is compiled in and meets the "
                             "need_* requirements")
        self.types = kept
        self.tags = [tags] if isinstance(tags, str) else list(tags)
        self.backend_hyperparameters = {}
        for backend, params in (backend_hyperparameters or {}).items():
            if backend not in BACKEND_PARAMETERS:
                raise ValueError(f"YokanSpaceBuilder: backend_hyperparameters: unknown backend type {backend!r}")
            if backend not in [b.name for b in kept]:
                raise ValueError(f"YokanSpaceBuilder: backend_hyperparameters for {backend!r}, "
                                 "which is not among the backends offered")
            for key in params:
                if key not in BACKEND_PARAMETERS[backend]:
                    raise ValueError(f"YokanSpaceBuilder: backend_hyperparameters: {backend} has no tunable key "
                                     f"{key!r} (known: {', '.join(BACKEND_PARAMETERS[backend]) or 'none'})")
            self.backend_hyperparameters[backend] = dict(params)
        # Build every hyperparameter once now, so bad values fail here rather than in a space.
        for backend, params in self.backend_hyperparameters.items():
            for key, value in params.items():
                self._param_hp(backend, key, value)

    @property
    def type_names(self):
        return [b.name for b in self.types]

    @staticmethod
    def _param_hp(backend, key, value):
        kind, minimum = BACKEND_PARAMETERS[backend][key]
        what = f"backend_hyperparameters[{backend!r}][{key!r}]"
        if kind is bool:
            return _bool_hp(f"{backend}.{key}", value, what)
        return _number_hp(f"{backend}.{key}", value, what=what, minimum=minimum)

    def set_provider_hyperparameters(self, configuration_space: CS) -> None:
        CSmod = _configspace()
        configuration_space.add(CategoricalChoice("pool", num_options=configuration_space["margo.argobots.num_pools"]))
        hp_type = CategoricalOrConst("type", self.type_names)
        configuration_space.add(hp_type)
        multi = len(self.types) > 1

        def only_for(hp, backends):
            if multi and len(backends) < len(self.types):
                if len(backends) == 1:
                    configuration_space.add(CSmod.EqualsCondition(hp, hp_type, backends[0]))
                else:
                    configuration_space.add(CSmod.InCondition(hp, hp_type, backends))

        persistent = [b.name for b in self.types if b.is_persistent]
        if persistent:
            hp_path = CategoricalOrConst("path", self.paths)
            configuration_space.add(hp_path)
            only_for(hp_path, persistent)
        for backend, params in self.backend_hyperparameters.items():
            for key, value in params.items():
                hp = self._param_hp(backend, key, value)
                configuration_space.add(hp)
                only_for(hp, [backend])

    def resolve_to_provider_spec(self, name: str, provider_id: int, config: Config, prefix: str) -> ProviderSpec:
        backend = str(_plain_value(config[prefix + "type"]))
        db_config = {}
        if prefix + "path" in config:
            db_config["path"] = os.path.join(str(_plain_value(config[prefix + "path"])), name)
        for key in self.backend_hyperparameters.get(backend, {}):
            full = f"{prefix}{backend}.{key}"
            if full in config:
                db_config[key] = _plain_value(config[full])
        cfg = {"database": {"type": backend, "config": db_config}}
        return ProviderSpec(name=name, type="yokan", provider_id=provider_id, tags=list(self.tags), config=cfg,
                            dependencies={"pool": int(_plain_value(config[prefix + "pool"]))})


__all__ = ["BackendType", "BACKENDS", "BACKEND_PARAMETERS", "YokanSpaceBuilder"]
