"""Rendered pieces of the supervisors' pages, kept per process under a key read from the database.

A key holds everything the kept piece depends on (see ``views._dashboard_key``), read again on every view, so
a kept piece is never stale whichever worker process made it and no writer has to invalidate anything: a change
makes a new key, and the old entry simply ages out of the LRU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from markupsafe import Markup


class PageCache:
    """A small thread-safe LRU of rendered HTML."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Markup | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: Hashable, html: Markup) -> None:
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
