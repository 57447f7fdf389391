"""Pool (in progress)."""


class PoolProxy:
    pass


class AsyncResult:
    pass


class IMapIterator:
    pass
