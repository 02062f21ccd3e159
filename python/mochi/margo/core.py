"""Engine, addresses, handles and RPCs: the core of mochi.margo.

Everything here is a thin layer over the ``_pymargo`` extension. Objects that
the engine keeps (handlers, callbacks) never hold the ``Engine`` itself, so
that an engine nobody references is garbage-collected and finalized.
"""

import json
import sys
import traceback

import _pymargo

from . import bulk  # noqa: F401  (makes mochi.margo.bulk reachable as an attribute)
from . import serialization
from .bulk import Bulk
from .logging import EngineLogger

client = _pymargo.mode.client
server = _pymargo.mode.server

MargoException = _pymargo.MargoException


# --------------------------------------------------------------------------------------
# Decorators
# --------------------------------------------------------------------------------------

def remote(*args, rpc_name=None, disable_response=False, service_name=None):
    """Mark a function or method as an RPC handler.

    Usable as ``@remote``, ``@remote()``, ``@remote("name")`` or
    ``@remote(rpc_name=..., disable_response=..., service_name=...)``.
    """

    def decorate(func):
        func._pymargo_info = {
            "rpc_name": rpc_name if rpc_name is not None else func.__name__,
            "disable_response": bool(disable_response),
            "service_name": service_name,
        }
        return func

    if len(args) == 1 and callable(args[0]) and not isinstance(args[0], str):
        return decorate(args[0])
    if len(args) == 1 and isinstance(args[0], str) and rpc_name is None:
        rpc_name = args[0]
    elif args:
        raise TypeError("remote() takes at most one positional argument (the rpc name)")
    return decorate


def provider(*args, service_name=None):
    """Mark a class as a provider, optionally giving its service name.

    Usable as ``@provider``, ``@provider()`` or ``@provider(service_name="name")``.
    """

    def decorate(cls):
        cls._pymargo_provider_info = {"service_name": service_name}
        return cls

    if len(args) == 1 and isinstance(args[0], type):
        return decorate(args[0])
    if len(args) == 1 and isinstance(args[0], str) and service_name is None:
        service_name = args[0]
    elif args:
        raise TypeError("provider() takes at most one positional argument (the service name)")
    return decorate


def on_finalize(func):
    """Mark a provider method to be called when the engine is finalized."""
    func._pymargo_on_finalize = True
    return func


def on_prefinalize(func):
    """Mark a provider method to be called before the engine is finalized."""
    func._pymargo_on_prefinalize = True
    return func


# --------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------

class Request:
    """A pending non-blocking operation (bulk transfer, respond)."""

    def __init__(self, raw):
        self._raw = raw

    def wait(self) -> None:
        self._raw.wait()

    def test(self) -> bool:
        return bool(self._raw.test())


class ForwardRequest(Request):
    """A pending non-blocking RPC; ``wait()`` returns the unpickled response."""

    def __init__(self, raw, handle, mid, response_disabled):
        super().__init__(raw)
        self._handle = handle
        self._mid = mid
        self._response_disabled = response_disabled
        self._waited = False

    def wait(self):
        if self._waited:
            raise MargoException("Request already waited on")
        self._waited = True
        self._raw.wait()
        if self._response_disabled:
            return None
        return _unpack_output(self._mid, self._handle._get_output())


def _unpack_output(mid, data):
    if not data:
        return None
    return serialization.loads(mid, data)


# --------------------------------------------------------------------------------------
# Address
# --------------------------------------------------------------------------------------

class Address:
    """The address of an engine (this one or a peer)."""

    def __init__(self, mid, hg_addr, need_del=True):
        self._mid = mid
        self._hg_addr = hg_addr

    def __str__(self):
        return _pymargo.addr_to_string(self._mid, self._hg_addr)

    def __repr__(self):
        return f"<mochi.margo.Address {self}>"

    def __eq__(self, other):
        if not isinstance(other, Address):
            return NotImplemented
        return bool(_pymargo.addr_cmp(self._mid, self._hg_addr, other._hg_addr))

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(str(self))

    def copy(self) -> "Address":
        return Address(self._mid, _pymargo.addr_dup(self._mid, self._hg_addr))

    def shutdown(self) -> None:
        """Ask the peer at this address to finalize (it must have enabled remote shutdown)."""
        _pymargo.shutdown_remote_instance(self._mid, self._hg_addr)

    def get_internal_hg_addr(self):
        return self._hg_addr

    @property
    def hg_addr(self):
        return self._hg_addr

    def get_internal_mid(self):
        return self._mid


# --------------------------------------------------------------------------------------
# Handle
# --------------------------------------------------------------------------------------

# The handle type is the extension's own class: handlers receive it straight from C++ (no
# wrapper object per request). respond(), get_id(), get_provider_id() and the internal
# members of py-mochi-margo (_forward, _iforward, _respond, _irespond, _get_mid, _get_input,
# _get_output, _get_hg_addr) are implemented there; the members below are added in Python.
Handle = _pymargo.Handle


def _handle_get_addr(self) -> Address:
    return Address(self._get_mid(), self._get_hg_addr()).copy()


Handle.get_addr = _handle_get_addr
Handle.address = property(_handle_get_addr)
Handle.__doc__ = "An RPC handle. Handlers receive one as their first argument."


# --------------------------------------------------------------------------------------
# RPCs
# --------------------------------------------------------------------------------------

class RemoteFunction:
    """A registered RPC; ``on(address, provider_id)`` makes it callable."""

    def __init__(self, engine, rpc_id, provider_id=0, name=None):
        self._engine = engine
        self._rpc_id = rpc_id
        self._provider_id = provider_id
        self._name = name

    @property
    def rpc_id(self) -> int:
        return self._rpc_id

    @property
    def engine(self) -> "Engine":
        return self._engine

    @property
    def name(self):
        return self._name

    def on(self, address, provider_id=0) -> "CallableRemoteFunction":
        if isinstance(address, str):
            address = self._engine.lookup(address)
        return CallableRemoteFunction(self, address, provider_id)

    def disable_response(self, disable=True) -> None:
        _pymargo.disable_response(self._engine.mid, self._rpc_id, self._provider_id, bool(disable))

    def disabled_response(self) -> bool:
        return bool(_pymargo.disabled_response(self._engine.mid, self._rpc_id, self._provider_id))

    def deregister(self) -> None:
        _pymargo.deregister(self._engine.mid, self._rpc_id, self._provider_id)

    def __repr__(self):
        return f"<mochi.margo.RemoteFunction {self._name!r} id={self._rpc_id} provider_id={self._provider_id}>"


class CallableRemoteFunction:
    """A RemoteFunction bound to a target address and provider id."""

    def __init__(self, remote_function, address, provider_id=0):
        self._remote_function = remote_function
        self._address = address
        self._provider_id = provider_id
        self._handle = None
        # What every call needs, looked up once.
        self._mid = remote_function.engine.mid
        self._hg_addr = address.hg_addr
        self._rpc_id = remote_function.rpc_id

    def _new_handle(self):
        handle = _pymargo.create_handle(self._mid, self._hg_addr, self._rpc_id)
        self._handle = handle
        return handle

    def __call__(self, *args, timeout=0.0, blocking=True, **kwargs):
        if blocking:
            # One step in C++ (pickle, forward without the GIL, unpickle); no handle object.
            # A disabled response comes back empty, hence None.
            return _pymargo.call(self._mid, self._hg_addr, self._rpc_id, self._provider_id,
                                 args, kwargs, float(timeout))
        # Each call gets its own handle so that one CallableRemoteFunction can be
        # used from several threads at once.
        handle = self._new_handle()
        data = serialization.dumps(self._mid, {"args": args, "kwargs": kwargs})
        disabled = self._remote_function.disabled_response()
        raw_req = handle._iforward(self._provider_id, data, float(timeout))
        return ForwardRequest(raw_req, handle, self._mid, disabled)

    @property
    def handle(self) -> Handle:
        if self._handle is None:
            return self._new_handle()
        return self._handle

    @property
    def remote_function(self) -> RemoteFunction:
        return self._remote_function

    @property
    def engine(self) -> "Engine":
        return self._remote_function.engine

    @property
    def provider_id(self) -> int:
        return self._provider_id

    @property
    def address(self) -> Address:
        return self._address


def _report_handler_error(rpc_name, exc, tb=None):
    """Called by the extension with the exception that escaped a handler."""
    if tb is not None:
        exc = exc.with_traceback(tb)
    msg = "[Py-Margo] ERROR: exception in handler of RPC {!r}: {}: {}\n".format(
        rpc_name, type(exc).__name__, exc)
    try:
        sys.stderr.write(msg)
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        sys.stderr.flush()
    except Exception:  # pragma: no cover - stderr gone at interpreter exit
        pass


_pymargo._set_hooks(Request, _report_handler_error)


# --------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------

class Engine:
    """A margo instance: transport, progress loop, RPC registry."""

    def __init__(self, addr: str, mode=server, use_progress_thread: bool = False,
                 num_rpc_threads: int = 0, config="") -> None:
        self._mid = None
        self._owns_mid = False
        if config is None:
            config = ""
        if isinstance(config, dict):
            config = json.dumps(config)
        elif not isinstance(config, str):
            raise TypeError("config must be a dict or a JSON string")
        mode_value = int(mode)
        if mode_value == int(client):
            num_rpc_threads = 0
        self._mid = _pymargo.init(str(addr), mode_value, bool(use_progress_thread),
                                  int(num_rpc_threads), config)
        self._owns_mid = True

    @classmethod
    def from_margo_instance_id(cls, mid) -> "Engine":
        """Wrap an existing margo instance; the wrapper never finalizes it."""
        engine = cls.__new__(cls)
        engine._mid = mid
        engine._owns_mid = False
        return engine

    # lifecycle ------------------------------------------------------------------------
    def __del__(self):
        try:
            if self._owns_mid and self._mid is not None and not _pymargo.is_finalized(self._mid):
                _pymargo.finalize(self._mid)
        except Exception:
            pass

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._owns_mid and self._mid is not None and not _pymargo.is_finalized(self._mid):
            self.finalize()
        return False

    def finalize(self) -> None:
        if _pymargo.is_finalized(self._mid):
            return
        _pymargo.finalize(self._mid)

    def wait_for_finalize(self) -> None:
        _pymargo.wait_for_finalize(self._mid)

    @property
    def finalized(self) -> bool:
        return bool(_pymargo.is_finalized(self._mid))

    def on_prefinalize(self, callback) -> None:
        _pymargo.push_prefinalize_callback(self._mid, callback)

    def on_finalize(self, callback) -> None:
        _pymargo.push_finalize_callback(self._mid, callback)

    def enable_remote_shutdown(self) -> None:
        _pymargo.enable_remote_shutdown(self._mid)

    @property
    def listening(self) -> bool:
        return bool(_pymargo.is_listening(self._mid))

    # internals ------------------------------------------------------------------------
    def get_internal_mid(self):
        return self._mid

    @property
    def mid(self):
        return self._mid

    @property
    def config(self) -> dict:
        return json.loads(_pymargo.get_config(self._mid))

    @property
    def logger(self) -> EngineLogger:
        return EngineLogger(self._mid)

    def sleep(self, delay) -> None:
        """Sleep ``delay`` milliseconds, letting the engine make progress."""
        _pymargo.sleep(self._mid, float(delay))

    # addresses ------------------------------------------------------------------------
    def addr(self) -> Address:
        return Address(self._mid, _pymargo.addr_self(self._mid))

    @property
    def address(self) -> Address:
        return self.addr()

    def lookup(self, addr: str) -> Address:
        return Address(self._mid, _pymargo.lookup(self._mid, str(addr)))

    def set_remove(self, address: Address) -> None:
        _pymargo.addr_set_remove(self._mid, address.hg_addr)

    # RPCs -----------------------------------------------------------------------------
    def register(self, rpc_name: str = None, func=None, provider_id: int = 0,
                 disable_response: bool = False) -> RemoteFunction:
        info = getattr(func, "_pymargo_info", None) if func is not None else None
        if not isinstance(info, dict):
            info = None
        if rpc_name is None:
            if func is None:
                raise ValueError("register() needs an rpc_name or a func")
            if info is not None and info.get("rpc_name"):
                rpc_name = info["rpc_name"]
            else:
                rpc_name = func.__qualname__
        if info is not None and info.get("disable_response"):
            disable_response = True
        rpc_id = None
        if func is None:
            # Client-side registration of a name this engine already serves (RPCs to
            # oneself) must not replace the existing handler with "no handler".
            rpc_id = _pymargo.registered(self._mid, rpc_name, int(provider_id))
        if rpc_id is None:
            # The extension unpickles the arguments and calls func(handle, *args, **kwargs).
            # func must not reference the Engine or its mid: the C++ engine keeps it, and a
            # reference back would keep the engine alive forever.
            rpc_id = _pymargo.register(self._mid, rpc_name, int(provider_id), func)
        rf = RemoteFunction(self, rpc_id, int(provider_id), rpc_name)
        if disable_response:
            rf.disable_response(True)
        return rf

    def registered(self, rpc_name: str, provider_id: int = None):
        pid = 0 if provider_id is None else int(provider_id)
        rpc_id = _pymargo.registered(self._mid, rpc_name, pid)
        if rpc_id is None:
            return None
        return RemoteFunction(self, rpc_id, pid, rpc_name)

    def register_provider(self, obj, provider_id: int = 0, service_name: str = None) -> dict:
        if service_name is None:
            pinfo = getattr(obj, "_pymargo_provider_info", None)
            if isinstance(pinfo, dict):
                service_name = pinfo.get("service_name")
        rpcs = {}
        for attr_name in dir(obj):
            try:
                member = getattr(obj, attr_name)
            except Exception:
                continue
            if not callable(member):
                continue
            if getattr(member, "_pymargo_on_prefinalize", False) is True:
                self.on_prefinalize(member)
            if getattr(member, "_pymargo_on_finalize", False) is True:
                self.on_finalize(member)
            info = getattr(member, "_pymargo_info", None)
            if not isinstance(info, dict):
                continue
            rpc_name = info.get("rpc_name") or attr_name
            service = service_name if service_name is not None else info.get("service_name")
            full_name = f"{service}_{rpc_name}" if service else rpc_name
            rpcs[full_name] = self.register(full_name, member, provider_id=provider_id,
                                            disable_response=bool(info.get("disable_response")))
        return rpcs

    # bulk -----------------------------------------------------------------------------
    def create_bulk(self, buffer, mode) -> Bulk:
        hg_bulk = _pymargo.bulk_create(self._mid, buffer, int(mode))
        return Bulk(self._mid, hg_bulk, buffer)

    def transfer(self, op, origin_addr: Address, origin_handle: Bulk, origin_offset: int,
                 local_handle: Bulk, local_offset: int, size: int, blocking: bool = True):
        result = _pymargo.bulk_transfer(self._mid, int(op), origin_addr.hg_addr,
                                        origin_handle.hg_bulk, int(origin_offset),
                                        local_handle.hg_bulk, int(local_offset), int(size),
                                        bool(blocking))
        if blocking:
            return None
        return Request(result)

    def __repr__(self):
        try:
            return f"<mochi.margo.Engine {self.addr()}>"
        except Exception:
            return "<mochi.margo.Engine>"


MargoInstance = Engine
MargoAddress = Address
MargoHandle = Handle
