"""In-process read caches for hot rows, dropped whenever this process commits a write to their tables.

Why: every native request authenticates its project, and every token names a room and is signed with
a project secret. Reading those rows through the ORM cost more than everything else a token request
does, so ``api_throughput`` could not get near its target while each request paid for them.

Coherence, without a message bus between processes:

- Session events note which tables a transaction wrote: the rows of its ORM flushes, and the table
  of every INSERT, UPDATE or DELETE statement run through the session. Once the transaction has
  *committed*, every cache watching one of those tables is emptied. A rollback forgets the notes.
- A value read while such a commit happened may be older than that commit, so it is not stored: the
  loader takes ``generation()`` before reading, and ``put`` drops the value if it has moved since.
- Writers in other processes (``conclave worker``, the CLI) and plain ``text()`` SQL are not seen.
  Entries therefore also expire after ``ttl_seconds`` (``CONCLAVE_CACHE_TTL_SECONDS``); 0 turns the
  caches off.

A cache may ignore inserts into a table (``watch_inserts=False``) when a new row cannot make a
cached value wrong (a new room changes no other room's facts); negative results are never cached.
"""

from __future__ import annotations

import pickle
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Table, event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    UOWTransaction,
    make_transient_to_detached,
    object_mapper,
)
from sqlalchemy.orm.attributes import instance_state

K = TypeVar("K")
V = TypeVar("V")
M = TypeVar("M")

WriteKind = Literal["insert", "change"]
Mark = tuple[str, WriteKind]

_MARKS_KEY = "conclave.read_cache.marks"
_generations: dict[Mark, int] = {}
_caches: weakref.WeakSet[ReadCache[Any, Any]] = weakref.WeakSet()


class ReadCache(Generic[K, V]):
    """Values derived from rows of ``tables``, keyed by ``K``; see the module docstring."""

    def __init__(
        self,
        tables: Iterable[str],
        *,
        ttl_seconds: float,
        watch_inserts: bool = True,
        max_entries: int = 10_000,
    ) -> None:
        kinds: tuple[WriteKind, ...] = ("insert", "change") if watch_inserts else ("change",)
        self.marks = frozenset((table, kind) for table in tables for kind in kinds)
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        _caches.add(self)

    @property
    def enabled(self) -> bool:
        return self.ttl_seconds > 0

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def generation(self) -> int:
        """Take before reading what ``put`` will store; it moves with every commit that matters here."""
        return sum(_generations.get(mark, 0) for mark in self.marks)

    def put(self, key: K, value: V, generation: int) -> None:
        if not self.enabled or generation != self.generation():
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (time.monotonic() + self.ttl_seconds, value)

    def clear(self) -> None:
        self._entries.clear()

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or ``load()``'s, stored unless a relevant commit happened meanwhile.

        ``load`` may raise (nothing is stored then): negative results are never cached.
        """
        value = self.get(key)
        if value is None:
            generation = self.generation()
            value = await load()
            self.put(key, value, generation)
        return value


@dataclass(frozen=True)
class RowSnapshot:
    """A loaded row's column values, frozen for a cache: ``detached_row`` turns it back into rows.

    Held pickled, so that each row made from it gets its own copy of every value (JSON columns
    included) from one C call; deep-copying a project's JSON settings cost more than the rest of
    authenticating a request.
    """

    pickled: bytes


def row_values(instance: object) -> RowSnapshot:
    """A snapshot of a loaded row's column values, to cache (``detached_row`` reads it)."""
    columns = object_mapper(instance).column_attrs
    return RowSnapshot(pickle.dumps({column.key: getattr(instance, column.key) for column in columns}))


def detached_row(model: type[M], snapshot: RowSnapshot) -> M:
    """A new instance of ``model`` holding the snapshot's values, detached as if loaded and then
    expunged.

    No SQL is run. Reading it needs no session; to change it, pass it through ``attached``
    first. Its values are its own, so an in-place change to one (a JSON column, say) never
    reaches the cache or another request.
    """
    instance = inspect(model).class_manager.new_instance()
    instance_state(instance).dict.update(pickle.loads(snapshot.pickled))
    make_transient_to_detached(instance)
    return instance  # type: ignore[no-any-return]


class ReadOnlyRowChanged(RuntimeError):
    """Code tried to change a row shared by every reader of a cache entry (``read_only_row``)."""


_read_only: weakref.WeakKeyDictionary[object, RowSnapshot] = weakref.WeakKeyDictionary()
_guarded_models: set[type] = set()


def read_only_row(model: type[M], snapshot: RowSnapshot) -> M:
    """One detached instance of ``model`` for every reader of a cache entry; build it once, at load.

    Why: authentication hands every native request its project. Building a private copy per
    request cost about a third of authenticating from the cache. Setting an attribute of the
    shared instance raises ``ReadOnlyRowChanged``; ``attached`` gives a private, changeable copy.
    Its JSON values must not be changed in place either (nothing can catch that; none of the
    code does it).
    """
    if model not in _guarded_models:
        for column in inspect(model).column_attrs:
            event.listen(getattr(model, column.key), "set", _refuse_read_only_change)
        _guarded_models.add(model)
    instance = detached_row(model, snapshot)
    _read_only[instance] = snapshot
    return instance


def _refuse_read_only_change(target: object, value: object, _old: object, initiator: Any) -> None:
    if target in _read_only:
        raise ReadOnlyRowChanged(
            f"{type(target).__name__}.{initiator.key} of a cached row is read-only: change attached(...)"
        )


def attached(session: AsyncSession, instance: M) -> M:
    """``instance`` (perhaps from ``detached_row`` or ``read_only_row``) as a persistent row of
    ``session``, to change it.

    Use the returned object: if the session already holds that row, it is the one returned, and a
    read-only row is replaced by a private copy.
    """
    state = instance_state(instance)
    if state.session_id == session.sync_session.hash_key:
        return instance
    present = session.sync_session.identity_map.get(state.key) if state.key is not None else None
    if present is not None:
        return present
    snapshot = _read_only.get(instance)
    if snapshot is not None:
        instance = detached_row(type(instance), snapshot)
    session.add(instance)
    return instance


def _mark(session: Session, table: str, kind: WriteKind) -> None:
    marks: set[Mark] = session.info.setdefault(_MARKS_KEY, set())
    marks.add((table, kind))


@event.listens_for(Session, "after_flush")
def _note_flushed_rows(session: Session, _flush: UOWTransaction) -> None:
    # In after_flush, new/dirty/deleted still list what this flush wrote.
    for instances, kind in ((session.new, "insert"), (session.dirty, "change"), (session.deleted, "change")):
        for instance in instances:
            for table in object_mapper(instance).tables:
                _mark(session, table.name, kind)  # type: ignore[arg-type]


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)  # ORM entities give their annotated Table too
    if isinstance(table, Table):
        _mark(state.session, table.name, "insert" if state.is_insert else "change")


@event.listens_for(Session, "after_commit")
def _apply_marks(session: Session) -> None:
    marks: set[Mark] | None = session.info.pop(_MARKS_KEY, None)
    if not marks:
        return
    for mark in marks:
        _generations[mark] = _generations.get(mark, 0) + 1
    for cache in list(_caches):
        if not cache.marks.isdisjoint(marks):
            cache.clear()


@event.listens_for(Session, "after_rollback")
def _forget_marks(session: Session) -> None:
    session.info.pop(_MARKS_KEY, None)
