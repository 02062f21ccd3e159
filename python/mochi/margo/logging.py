"""Logging: the global margo logger and per-engine loggers.

A logger is any object with the methods ``trace``, ``debug``, ``info``,
``warning``, ``error`` and ``critical``, each taking a message string.
Messages below the configured level are dropped before reaching the logger.
"""

from abc import ABC, abstractmethod

import _pymargo

level = _pymargo.log_level


def set_global_logger(logger) -> None:
    """Route the messages of the global logger (and engines without their own) to ``logger``."""
    _pymargo.set_global_logger(logger)


def set_global_log_level(lvl) -> None:
    _pymargo.set_global_log_level(int(lvl))


def _log_global(lvl, msg):
    _pymargo.log_global(int(lvl), str(msg))


def trace(msg: str) -> None:
    _log_global(level.trace, msg)


def debug(msg: str) -> None:
    _log_global(level.debug, msg)


def info(msg: str) -> None:
    _log_global(level.info, msg)


def warning(msg: str) -> None:
    _log_global(level.warning, msg)


def error(msg: str) -> None:
    _log_global(level.error, msg)


def critical(msg: str) -> None:
    _log_global(level.critical, msg)


class Logger(ABC):
    """Base class for loggers passed to ``set_global_logger`` or ``Engine.logger.set_logger``."""

    @abstractmethod
    def trace(self, msg: str) -> None:
        pass

    @abstractmethod
    def debug(self, msg: str) -> None:
        pass

    @abstractmethod
    def info(self, msg: str) -> None:
        pass

    @abstractmethod
    def warning(self, msg: str) -> None:
        pass

    @abstractmethod
    def error(self, msg: str) -> None:
        pass

    @abstractmethod
    def critical(self, msg: str) -> None:
        pass


class EngineLogger:
    """The logger of one engine (``Engine.logger``)."""

    def __init__(self, mid):
        # Hold the margo instance, not the Engine: an Engine must stay collectable.
        self._mid = mid

    def set_logger(self, logger) -> None:
        _pymargo.set_logger(self._mid, logger)

    def set_log_level(self, lvl) -> None:
        _pymargo.set_log_level(self._mid, int(lvl))

    def _log(self, lvl, msg):
        _pymargo.log(self._mid, int(lvl), str(msg))

    def trace(self, msg: str) -> None:
        self._log(level.trace, msg)

    def debug(self, msg: str) -> None:
        self._log(level.debug, msg)

    def info(self, msg: str) -> None:
        self._log(level.info, msg)

    def warning(self, msg: str) -> None:
        self._log(level.warning, msg)

    def error(self, msg: str) -> None:
        self._log(level.error, msg)

    def critical(self, msg: str) -> None:
        self._log(level.critical, msg)
