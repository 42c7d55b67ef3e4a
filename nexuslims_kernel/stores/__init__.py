"""The store layer: one interface over local folders and object-store prefixes.

Public API::

    parse_store_url(value) -> StoreURL          # checks syntax, no I/O
    open_store(value) -> Store                  # .list() .info(key) .open(key) .check()
    BlobCache(dir, max_bytes)                   # bounded LRU of objects, by ETag
    open_view(store_root, settings) -> StoreView  # .root, .fetch(objects): a session's objects as local files
"""

from nexuslims_kernel.stores.base import ObjectInfo, Store, StoreError, check_key, open_store
from nexuslims_kernel.stores.cache import BlobCache, StoreView, open_view
from nexuslims_kernel.stores.url import OBJECT_SCHEMES, StoreURL, is_store_url, parse_store_url

__all__ = ["OBJECT_SCHEMES", "BlobCache", "ObjectInfo", "Store", "StoreError", "StoreURL", "check_key", "is_store_url", "open_store",
           "open_view", "parse_store_url", "StoreView"]
