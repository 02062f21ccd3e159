"""ConfigSpace machinery behind the ``space()`` / ``from_config()`` methods of mochi.bedrock.spec:
the ProviderConfigSpaceBuilder protocol that components implement (mochi.yokan.config_space,
mochi.warabi.config_space), the hyperparameter helpers (CategoricalOrConst, IntegerOrConst,
FloatOrConst, CategoricalChoice) and the space builders of each spec. ConfigSpace itself is
imported only when a space is built (``pip install ConfigSpace``).
"""

import copy
import re
import typing

from .spec import MargoSpec, PoolSpec, POOL_KINDS, ProcSpec, ProviderSpec, SCHEDULER_TYPES

#: Annotation aliases used by ProviderConfigSpaceBuilder implementations (as upstream's CS and
#: Config): the space a builder fills in, and a sampled ConfigSpace Configuration.
CS = typing.Any
Config = typing.Any

#: Mercury keys kinako's engine reads, with the kind of value each takes.
MERCURY_KEYS = {"eager_size": int, "recv_buffers": int, "request_post_init": int, "request_post_incr": int,
                "max_contexts": int, "auto_sm": bool, "no_bulk_eager": bool, "no_loopback": bool,
                "stats": bool, "na_no_block": bool, "na_no_retry": bool}
_MERCURY_MINIMUM = {"eager_size": 256, "recv_buffers": 1, "max_contexts": 1}
_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _configspace():
    """Imports ConfigSpace, or raises an ImportError that says how to install it."""
    try:
        import ConfigSpace
    except ImportError as e:
        raise ImportError("space()/from_config() and the mochi.*.config_space modules need the ConfigSpace "
                          "package: install it with `pip install ConfigSpace` "
                          "(or `pip install kinako[tuning]`)") from e
    return ConfigSpace


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int_bounds(what, value, minimum=None, maximum=None):
    """An int or a (min, max) tuple of ints -> (lo, hi); anything else, or an empty or
    out-of-limits range, is a ValueError naming `what`."""
    if _is_int(value):
        lo = hi = value
    elif isinstance(value, tuple) and len(value) == 2 and all(_is_int(v) for v in value):
        lo, hi = value
    else:
        raise ValueError(f"{what}: expected an integer or a (min, max) tuple of integers, got {value!r}")
    if lo > hi:
        raise ValueError(f"{what}: empty range {value!r} (min > max)")
    if minimum is not None and lo < minimum:
        raise ValueError(f"{what}: {value!r} goes below the minimum {minimum}")
    if maximum is not None and hi > maximum:
        raise ValueError(f"{what}: {value!r} goes above the maximum {maximum}")
    return lo, hi


def _choices(what, value, allowed=None):
    """A single value or a non-empty list of values -> list without duplicates; values outside
    `allowed` (when given) are a ValueError."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise ValueError(f"{what}: expected at least one value")
    out = []
    for v in items:
        if allowed is not None and v not in allowed:
            raise ValueError(f"{what}: unknown value {v!r} (expected one of {', '.join(map(str, allowed))})")
        if v not in out:
            out.append(v)
    return out


def _bounds(hp):
    """(lower, upper) of an integer hyperparameter or of a Constant."""
    if hasattr(hp, "lower") and hasattr(hp, "upper"):
        return int(hp.lower), int(hp.upper)
    if hasattr(hp, "value"):
        return int(hp.value), int(hp.value)
    raise TypeError(f"hyperparameter {hp.name!r} is not an integer hyperparameter")


def _plain_value(v):
    """ConfigSpace may hand numpy scalars back; specs hold plain Python values."""
    return v.item() if hasattr(v, "item") else v


def CategoricalOrConst(name, items, *, default=None, weights=None, ordered=False, meta=None):
    """A Categorical over `items`, or a Constant when there is a single item (as upstream's helper)."""
    CS = _configspace()
    items = list(items) if isinstance(items, (list, tuple)) else [items]
    if len(items) == 1:
        return CS.Constant(name, items[0], meta=meta)
    return CS.Categorical(name, items, default=items[0] if default is None else default,
                          weights=weights, ordered=ordered, meta=meta)


def IntegerOrConst(name, bounds, *, default=None, log=False, meta=None):
    """An Integer over the (min, max) tuple `bounds`, or a Constant for an int (or min == max)."""
    CS = _configspace()
    lo, hi = _int_bounds(name, bounds)
    if lo == hi:
        return CS.Constant(name, lo, meta=meta)
    return CS.Integer(name, (lo, hi), default=default, log=log, meta=meta)


def FloatOrConst(name, bounds, *, default=None, log=False, meta=None):
    """A Float over the (min, max) tuple `bounds`, or a Constant for a single number."""
    CS = _configspace()
    if _is_number(bounds):
        return CS.Constant(name, float(bounds), meta=meta)
    if not (isinstance(bounds, tuple) and len(bounds) == 2 and all(_is_number(b) for b in bounds)):
        raise ValueError(f"{name}: expected a number or a (min, max) tuple of numbers, got {bounds!r}")
    lo, hi = float(bounds[0]), float(bounds[1])
    if lo > hi:
        raise ValueError(f"{name}: empty range {bounds!r} (min > max)")
    if lo == hi:
        return CS.Constant(name, lo, meta=meta)
    return CS.Float(name, (lo, hi), default=default, log=log, meta=meta)


def CategoricalChoice(name, num_options, weights=None, meta=None):
    """A choice among 0..num_options-1, e.g. a pool index (as upstream's helper).

    `num_options` is an int or an integer hyperparameter (such as ``margo.argobots.num_pools``);
    with a hyperparameter, Forbidden clauses keep the choice below its sampled value. Returns a
    list (the hyperparameter, then the clauses) to pass to ``add``."""
    CS = _configspace()
    if _is_int(num_options):
        lo = hi = num_options
    else:
        lo, hi = _bounds(num_options)
    if hi < 1:
        raise ValueError(f"{name}: needs at least one option")
    choice = CategoricalOrConst(name, list(range(hi)), default=0, weights=weights, meta=meta)
    out = [choice]
    for j in range(max(lo, 1), hi):
        out.append(CS.ForbiddenAndConjunction(CS.ForbiddenEqualsClause(num_options, j),
                                              CS.ForbiddenInClause(choice, list(range(j, hi)))))
    return out


def _number_hp(name, value, *, what=None, minimum=None, maximum=None, integer=True, log_ratio=64):
    """Hyperparameter for a tunable number: a scalar is a Constant, a (min, max) tuple a range
    (log-scaled when it spans a factor of `log_ratio` or more, as byte sizes usually do), a list
    an ordinal choice among its values."""
    CS = _configspace()
    what = what or name
    if isinstance(value, list):
        vals = _choices(what, value)
        for v in vals:
            if not (_is_int(v) if integer else _is_number(v)):
                raise ValueError(f"{what}: {v!r} is not {'an integer' if integer else 'a number'}")
            if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
                raise ValueError(f"{what}: {v!r} is outside [{minimum}, {maximum}]")
        vals = sorted(vals)
        return CS.Constant(name, vals[0]) if len(vals) == 1 else CS.OrdinalHyperparameter(name, vals)
    if integer:
        lo, hi = _int_bounds(what, value, minimum, maximum)
        if lo == hi:
            return CS.Constant(name, lo)
        return CS.Integer(name, (lo, hi), log=lo > 0 and hi / lo >= log_ratio)
    if _is_number(value):
        lo = hi = float(value)
    elif isinstance(value, tuple) and len(value) == 2 and all(_is_number(v) for v in value):
        lo, hi = float(value[0]), float(value[1])
    else:
        raise ValueError(f"{what}: expected a number, a (min, max) tuple or a list of numbers, got {value!r}")
    if lo > hi:
        raise ValueError(f"{what}: empty range {value!r} (min > max)")
    if (minimum is not None and lo < minimum) or (maximum is not None and hi > maximum):
        raise ValueError(f"{what}: {value!r} goes outside [{minimum}, {maximum}]")
    if lo == hi:
        return CS.Constant(name, lo)
    return CS.Float(name, (lo, hi), log=lo > 0 and hi / lo >= log_ratio)


def _bool_hp(name, value, what=None):
    """True/False is a Constant; a list of booleans is a Categorical."""
    vals = _choices(what or name, value)
    for v in vals:
        if not isinstance(v, bool):
            raise ValueError(f"{what or name}: {v!r} is not a boolean")
    return CategoricalOrConst(name, vals)


class _Draft:
    """A configuration space under construction, with absolute hyperparameter names.

    ConfigSpace allows one condition per hyperparameter, while a provider's parameter may depend
    both on its own type and on how many providers the process has, so conditions are collected
    here per child and joined with AndConjunction when the real space is built."""

    def __init__(self):
        self.hps = {}
        self.conditions = {}   # child name -> [(kind, parent name, value)]
        self.forbidden = []    # ("eq", name, value) | ("in", name, values) | ("and", [clauses])
        self.meta = {}

    def add(self, hp):
        if hp.name in self.hps:
            raise ValueError(f"duplicate hyperparameter {hp.name!r}")
        self.hps[hp.name] = hp
        return hp

    def __getitem__(self, name):
        return self.hps[name]

    def __contains__(self, name):
        return name in self.hps

    def condition(self, child, kind, parent, value):
        self.conditions.setdefault(child, []).append((kind, parent, value))

    def active_if_greater(self, names, parent, value):
        for n in names:
            self.condition(n, "gt", parent, value)

    def build(self):
        CS = _configspace()
        cs = CS.ConfigurationSpace(meta=dict(self.meta) or None)
        if self.hps:
            cs.add(*self.hps.values())

        def make(child, kind, parent, value):
            if kind == "or":
                return CS.OrConjunction(*[make(child, *c) for c in value])
            if kind == "and":
                return CS.AndConjunction(*[make(child, *c) for c in value])
            c, p = cs[child], cs[parent]
            return {"eq": CS.EqualsCondition, "neq": CS.NotEqualsCondition, "gt": CS.GreaterThanCondition,
                    "lt": CS.LessThanCondition, "in": CS.InCondition}[kind](c, p, value)

        conds = []
        for child, lst in self.conditions.items():
            made = [make(child, *c) for c in lst]
            conds.append(made[0] if len(made) == 1 else CS.AndConjunction(*made))
        if conds:
            cs.add(*conds)

        def forbid(f):
            if f[0] == "and":
                return CS.ForbiddenAndConjunction(*[forbid(x) for x in f[1]])
            if f[0] == "eq":
                return CS.ForbiddenEqualsClause(cs[f[1]], f[2])
            return CS.ForbiddenInClause(cs[f[1]], f[2])

        if self.forbidden:
            cs.add(*[forbid(f) for f in self.forbidden])
        return cs


class _PrefixedSpace:
    """The space a ProviderConfigSpaceBuilder fills in: ``add`` files hyperparameters,
    conditions and forbidden clauses under the provider's prefix (``providers.db[0].``), and
    ``space[name]`` finds a name under that prefix first, then as an absolute name, so a builder
    can refer to the process' ``margo.argobots.num_pools``."""

    def __init__(self, draft, prefix):
        self._draft = draft
        self._prefix = prefix
        self.added = []   # absolute names of the hyperparameters added through this view

    def _resolve(self, name):
        if self._prefix + name in self._draft:
            return self._prefix + name
        if name in self._draft:
            return name
        raise KeyError(f"no hyperparameter {name!r} (looked for {self._prefix + name!r} and {name!r})")

    def __getitem__(self, name):
        return self._draft[self._resolve(name)]

    def __contains__(self, name):
        return self._prefix + name in self._draft or name in self._draft

    @property
    def prefix(self):
        return self._prefix

    def add(self, *items):
        CS = _configspace()
        from ConfigSpace.conditions import Condition, Conjunction
        from ConfigSpace.forbidden import ForbiddenClause, ForbiddenConjunction
        from ConfigSpace.hyperparameters import Hyperparameter

        for x in items:
            if isinstance(x, (list, tuple)):
                self.add(*x)
            elif isinstance(x, Hyperparameter):
                hp = copy.copy(x)
                hp.name = self._prefix + x.name
                self._draft.add(hp)
                self.added.append(hp.name)
            elif isinstance(x, (Condition, Conjunction)):
                child = self._condition_child(x)
                if isinstance(x, CS.AndConjunction):
                    for c in x.components:
                        self.add(c)
                else:
                    self._draft.condition(child, *self._condition(x))
            elif isinstance(x, (ForbiddenClause, ForbiddenConjunction)):
                self._draft.forbidden.append(self._forbidden(x))
            else:
                raise TypeError(f"cannot add {type(x).__name__} to a configuration space")

    def _condition_child(self, c):
        from ConfigSpace.conditions import Conjunction
        if isinstance(c, Conjunction):
            children = {self._condition_child(x) for x in c.components}
            if len(children) != 1:
                raise ValueError("a conjunction of conditions must concern a single hyperparameter")
            return children.pop()
        return self._resolve(c.child.name)

    def _condition(self, c):
        CS = _configspace()
        if isinstance(c, CS.OrConjunction):
            return ("or", None, [self._condition(x) for x in c.components])
        if isinstance(c, CS.AndConjunction):
            return ("and", None, [self._condition(x) for x in c.components])
        kinds = {CS.EqualsCondition: "eq", CS.NotEqualsCondition: "neq", CS.GreaterThanCondition: "gt",
                 CS.LessThanCondition: "lt", CS.InCondition: "in"}
        kind = kinds.get(type(c))
        if kind is None:
            raise TypeError(f"unsupported condition {type(c).__name__}")
        return (kind, self._resolve(c.parent.name), list(c.values) if kind == "in" else c.value)

    def _forbidden(self, f):
        CS = _configspace()
        if isinstance(f, CS.ForbiddenAndConjunction):
            return ("and", [self._forbidden(x) for x in f.components])
        if isinstance(f, CS.ForbiddenEqualsClause):
            return ("eq", self._resolve(f.hyperparameter.name), f.value)
        if isinstance(f, CS.ForbiddenInClause):
            return ("in", self._resolve(f.hyperparameter.name), list(f.values))
        raise TypeError(f"unsupported forbidden clause {type(f).__name__}")


class ProviderConfigSpaceBuilder:
    """Describes the configuration space of one provider type (as upstream's class).

    Subclasses implement:

    - ``set_provider_hyperparameters(configuration_space)``: add the provider's hyperparameters
      (``configuration_space.add(...)`` takes hyperparameters, conditions, forbidden clauses and
      lists of them) under plain names such as ``"type"`` or ``"pool"``; they are filed under the
      provider's prefix. ``configuration_space["margo.argobots.num_pools"]`` is the process' pool
      count, to be used with ``CategoricalChoice("pool", num_options=...)``.
    - ``resolve_to_provider_spec(name, provider_id, config, prefix)``: build the ProviderSpec
      from a sampled configuration, reading ``config[prefix + "type"]`` and so on. A ``"pool"``
      dependency may be given as an index into the process' pools; ProcSpec.from_config turns
      it into the pool's name.
    """

    def set_provider_hyperparameters(self, configuration_space: CS) -> None:
        raise NotImplementedError

    def resolve_to_provider_spec(self, name: str, provider_id: int, config: Config, prefix: str) -> "ProviderSpec":
        raise NotImplementedError


def _check_builder(builder, what):
    for m in ("set_provider_hyperparameters", "resolve_to_provider_spec"):
        if not callable(getattr(builder, m, None)):
            raise TypeError(f"{what}: {builder!r} is not a provider space builder (it has no {m}() method)")


def _weight_hps(draft, prefix, max_num_pools, weights):
    if isinstance(weights, list):
        if len(weights) < max_num_pools:
            raise ValueError(f"pool_association_weights: {len(weights)} entries for {max_num_pools} pools")
        per_pool = weights
    else:
        per_pool = [weights] * max_num_pools
    names = []
    for i in range(max_num_pools):
        hp = FloatOrConst(f"{prefix}pool_association_weight[{i}]", per_pool[i])
        draft.add(hp)
        names.append(hp.name)
    return names


def _pool_space(draft, prefix, pool_kinds):
    kinds = _choices("pool_kinds", pool_kinds, POOL_KINDS)
    return [draft.add(CategoricalOrConst(f"{prefix}kind", kinds)).name]


def _scheduler_space(draft, prefix, max_num_pools, scheduler_types, weights):
    _int_bounds("max_num_pools", max_num_pools, minimum=1)
    types = _choices("scheduler_types", scheduler_types, SCHEDULER_TYPES)
    names = [draft.add(CategoricalOrConst(f"{prefix}type", types)).name]
    return names, _weight_hps(draft, prefix, max_num_pools, weights)


def _argobots_space(draft, prefix, num_pools, num_xstreams, pool_kinds, scheduler_types, weights):
    pmin, pmax = _int_bounds("num_pools", num_pools, minimum=1)
    xmin, xmax = _int_bounds("num_xstreams", num_xstreams, minimum=1)
    hp_pools = draft.add(IntegerOrConst(f"{prefix}num_pools", num_pools, default=pmin)).name
    hp_xs = draft.add(IntegerOrConst(f"{prefix}num_xstreams", num_xstreams, default=xmin)).name
    for i in range(pmax):
        names = _pool_space(draft, f"{prefix}pools[{i}].", pool_kinds)
        if i >= pmin:
            draft.active_if_greater(names, hp_pools, i)
    for j in range(xmax):
        names, wnames = _scheduler_space(draft, f"{prefix}xstreams[{j}].scheduler.", pmax, scheduler_types, weights)
        if j >= xmin:
            draft.active_if_greater(names + wnames, hp_xs, j)
        for i, w in enumerate(wnames):
            if i >= pmin:
                draft.condition(w, "gt", hp_pools, i)
    return hp_pools


_ARGOBOTS_KW = ("pool_kinds", "scheduler_types", "pool_association_weights")


def _mercury_space(draft, prefix, knobs):
    for key, value in knobs.items():
        if key not in MERCURY_KEYS:
            raise TypeError(f"unknown mercury parameter {key!r} (known: {', '.join(MERCURY_KEYS)})")
        if value is None:
            continue
        if MERCURY_KEYS[key] is bool:
            draft.add(_bool_hp(prefix + key, value, key))
        else:
            draft.add(_number_hp(prefix + key, value, what=key, minimum=_MERCURY_MINIMUM.get(key, 0)))


def _margo_space(draft, prefix, handle_cache_size, progress_timeout_ub_msec, num_pools, num_xstreams, kwargs):
    abt_kw = {k: kwargs.pop(k) for k in list(kwargs) if k in _ARGOBOTS_KW}
    hg_kw = {k: kwargs.pop(k) for k in list(kwargs) if k in MERCURY_KEYS}
    if kwargs:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
    draft.add(_number_hp(f"{prefix}handle_cache_size", handle_cache_size, what="handle_cache_size", minimum=0))
    draft.add(_number_hp(f"{prefix}progress_timeout_ub_msec", progress_timeout_ub_msec,
                         what="progress_timeout_ub_msec", minimum=1))
    hp_pools = _argobots_space(draft, f"{prefix}argobots.", num_pools, num_xstreams,
                               abt_kw.get("pool_kinds", POOL_KINDS),
                               abt_kw.get("scheduler_types", SCHEDULER_TYPES),
                               abt_kw.get("pool_association_weights", (-1.0, 1.0)))
    _mercury_space(draft, f"{prefix}mercury.", hg_kw)
    pmin, pmax = _int_bounds("num_pools", num_pools)
    # Categorical, not integer: pool 2 is no "closer" to pool 3 than pool 0 is.
    for key in ("progress_pool", "rpc_pool"):
        hp = draft.add(CategoricalOrConst(f"{prefix}{key}", list(range(pmax)), default=0))
        for j in range(pmin, pmax):
            draft.forbidden.append(("and", [("eq", hp_pools, j), ("in", hp.name, list(range(j, pmax)))]))
    return hp_pools


def _check_factories(factories):
    if not isinstance(factories, (list, tuple)):
        raise TypeError("provider_space_factories: expected a list of {'family', 'builder', 'count'} dicts")
    seen = set()
    out = []
    for f in factories:
        if not isinstance(f, dict) or "family" not in f or "builder" not in f:
            raise ValueError(f"provider_space_factories: each entry needs a 'family' and a 'builder', got {f!r}")
        family = f["family"]
        if not isinstance(family, str) or not _NAME_RE.match(family):
            raise ValueError(f"provider_space_factories: family {family!r} is not a valid name "
                             "(letters, digits and _; providers are named <family>_<i>)")
        if family in seen:
            raise ValueError(f"provider_space_factories: duplicate family {family!r}")
        seen.add(family)
        _check_builder(f["builder"], f"provider_space_factories[{family!r}]")
        count = f.get("count", 1)
        _int_bounds(f"provider_space_factories[{family!r}].count", count, minimum=0)
        unknown = set(f) - {"family", "builder", "count"}
        if unknown:
            raise ValueError(f"provider_space_factories[{family!r}]: unknown key(s) {', '.join(sorted(unknown))}")
        out.append({"family": family, "builder": f["builder"], "count": count})
    return out


def _provider_space(draft, prefix, builder):
    view = _PrefixedSpace(draft, prefix)
    builder.set_provider_hyperparameters(view)
    return view.added


def _pool_names_in(spec, pools):
    """Turns an integer "pool" dependency into the name of that pool."""
    if not pools:
        return spec
    names = [p.name if isinstance(p, PoolSpec) else p for p in pools]
    deps = dict(spec.dependencies)
    ref = deps.get("pool")
    if _is_int(_plain_value(ref)):
        idx = int(_plain_value(ref))
        if not 0 <= idx < len(names):
            raise ValueError(f"provider {spec.name!r}: pool index {idx} out of range ({len(names)} pools)")
        deps["pool"] = names[idx]
        spec.dependencies = deps
    return spec


def _space_meta(config):
    space = getattr(config, "config_space", None)
    return (getattr(space, "meta", None) or {}) if space is not None else {}


def _ProviderSpec_space(builder, num_pools):
    _check_builder(builder, "ProviderSpec.space")
    draft = _Draft()
    draft.add(IntegerOrConst("margo.argobots.num_pools", _int_bounds("num_pools", num_pools, minimum=1)))
    _provider_space(draft, "", builder)
    draft.meta["builder"] = builder
    return draft.build()


def _ProcSpec_space(provider_space_factories, kwargs):
    factories = _check_factories(provider_space_factories)
    margo_kw = {k: kwargs.pop(k) for k in ("handle_cache_size", "progress_timeout_ub_msec", "num_pools",
                                            "num_xstreams") if k in kwargs}
    draft = _Draft()
    _margo_space(draft, "margo.", margo_kw.get("handle_cache_size", 32),
                 margo_kw.get("progress_timeout_ub_msec", 100), margo_kw.get("num_pools", 1),
                 margo_kw.get("num_xstreams", 1), kwargs)
    for f in factories:
        family, count = f["family"], f["count"]
        cmin, cmax = _int_bounds("count", count, minimum=0)
        hp_count = draft.add(IntegerOrConst(f"providers.{family}.num_providers", count, default=cmin)).name
        for i in range(cmax):
            names = _provider_space(draft, f"providers.{family}[{i}].", f["builder"])
            if i >= cmin:
                draft.active_if_greater(names, hp_count, i)
    draft.meta["provider_space_factories"] = factories
    return draft.build()


def _ProcSpec_from_config(cls, config, prefix, address, provider_space_factories, margo_kwargs):
    factories = provider_space_factories
    if factories is None:
        factories = _space_meta(config).get("provider_space_factories")
    if factories is None:
        factories = []
        if any(str(k).startswith(f"{prefix}providers.") for k in config.keys()):
            raise ValueError("ProcSpec.from_config: the configuration has providers but its space does not say which "
                             "builders made them; pass provider_space_factories=")
    factories = _check_factories(factories)
    margo = MargoSpec.from_config(config, prefix=f"{prefix}margo.", address=address, **margo_kwargs)
    providers = []
    provider_id = 1
    for f in factories:
        family = f["family"]
        key = f"{prefix}providers.{family}.num_providers"
        if key not in config:
            raise ValueError(f"ProcSpec.from_config: no {key!r} in the configuration")
        for i in range(int(_plain_value(config[key]))):
            providers.append(ProviderSpec.from_config(f"{family}_{i}", provider_id, config,
                                                      prefix=f"{prefix}providers.{family}[{i}].",
                                                      builder=f["builder"], pools=margo.argobots.pools))
            provider_id += 1
    return cls(margo=margo, providers=providers)
