"""mochi.margo.logging: levels, global logger, engine loggers."""

import pytest

import mochi.margo.logging as mlog
from mochi.margo.logging import EngineLogger, Logger, level


class Recorder(Logger):
    def __init__(self):
        self.records = []

    def trace(self, msg):
        self.records.append(("trace", msg))

    def debug(self, msg):
        self.records.append(("debug", msg))

    def info(self, msg):
        self.records.append(("info", msg))

    def warning(self, msg):
        self.records.append(("warning", msg))

    def error(self, msg):
        self.records.append(("error", msg))

    def critical(self, msg):
        self.records.append(("critical", msg))

    def levels_for(self, marker):
        return [lvl for lvl, msg in self.records if marker in msg]


NAMES = ["trace", "debug", "info", "warning", "error", "critical"]


def test_level_values():
    assert [int(getattr(level, n)) for n in ["external"] + NAMES] == list(range(7))


def test_logger_is_abstract():
    with pytest.raises(TypeError):
        Logger()

    class Partial(Logger):
        def info(self, msg):
            pass

    with pytest.raises(TypeError):
        Partial()
    Recorder()


def test_engine_logger_receives_and_filters(engine):
    rec = Recorder()
    lg = engine.logger
    assert isinstance(lg, EngineLogger)
    lg.set_logger(rec)
    lg.set_log_level(level.trace)
    for n in NAMES:
        getattr(lg, n)(f"all-{n}")
    assert rec.levels_for("all-") == NAMES

    lg.set_log_level(level.info)
    for n in NAMES:
        getattr(engine.logger, n)(f"filtered-{n}")
    assert rec.levels_for("filtered-") == NAMES[2:]

    lg.set_log_level(level.critical)
    engine.logger.error("dropped-error")
    engine.logger.critical("kept-critical")
    assert rec.levels_for("dropped-") == []
    assert rec.levels_for("kept-") == ["critical"]


def test_two_engines_have_separate_loggers():
    from mochi.margo import Engine

    from conftest import TCP

    a, b = Engine(TCP), Engine(TCP)
    try:
        ra, rb = Recorder(), Recorder()
        a.logger.set_logger(ra)
        b.logger.set_logger(rb)
        a.logger.set_log_level(level.info)
        b.logger.set_log_level(level.info)
        a.logger.info("to-a")
        b.logger.error("to-b")
        assert ra.levels_for("to-") == ["info"]
        assert rb.levels_for("to-") == ["error"]
    finally:
        a.finalize()
        b.finalize()


def test_global_logger():
    rec = Recorder()
    mlog.set_global_logger(rec)
    try:
        mlog.set_global_log_level(level.trace)
        for n in NAMES:
            getattr(mlog, n)(f"global-{n}")
        assert rec.levels_for("global-") == NAMES
        mlog.set_global_log_level(level.warning)
        for n in NAMES:
            getattr(mlog, n)(f"gfilt-{n}")
        assert rec.levels_for("gfilt-") == NAMES[3:]
    finally:
        mlog.set_global_logger(None)
        mlog.set_global_log_level(level.warning)


def test_duck_typed_logger(engine):
    class Duck:
        def __init__(self):
            self.got = []

        def __getattr__(self, name):
            if name in NAMES:
                return lambda msg: self.got.append((name, msg))
            raise AttributeError(name)

    d = Duck()
    engine.logger.set_logger(d)
    engine.logger.set_log_level(level.debug)
    engine.logger.debug("duck-debug")
    assert ("debug", "duck-debug") in d.got or any("duck-debug" in m for _, m in d.got)
