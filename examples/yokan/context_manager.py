"""Context managers that clean up engine, provider and handles automatically."""
from contextlib import contextmanager

from mochi.margo import Engine
from mochi.yokan.server import Provider
from mochi.yokan.client import Client


@contextmanager
def yokan_database(protocol='tcp', provider_id=42, backend="map"):
    """Yields a Database served in-process; everything is torn down on exit."""
    with Engine(protocol) as engine:
        provider = Provider(engine=engine, provider_id=provider_id,
                            config=f'{{"database":{{"type":"{backend}"}}}}')
        db = Client(engine=engine).make_database_handle(address=engine.addr(), provider_id=provider_id)
        try:
            yield db
        finally:
            del db, provider


class Transaction:
    """Collects puts and writes them in one put_multi when the block succeeds."""

    def __init__(self, db):
        self.db, self.pending = db, []

    def __enter__(self):
        return self

    def put(self, key, value):
        self.pending.append((key, value))

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self.pending:
            self.db.put_multi(self.pending)
        return False


with yokan_database() as db:
    with Transaction(db) as tx:
        tx.put("a", "1")
        tx.put("b", "2")
    print("after commit:", db.count(), "keys")
    try:
        with Transaction(db) as tx:
            tx.put("c", "3")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    print("after abort:", db.count(), "keys")
