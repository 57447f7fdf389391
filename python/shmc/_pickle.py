"""How values shmc does not hold natively are stored: pickled as
multiprocessing's Manager pickles them (ForkingPickler), with the proxies
they contain kept out of the pickle and stored beside it as references
(their persistent ids), so that they stay shared and keep their objects
alive. The C side (convert.c) calls dumps() and loads()."""
import io
import pickle

from multiprocessing.reduction import ForkingPickler

from . import _shmc


class _Pickler(ForkingPickler):
    def __init__(self, file, arena):
        super().__init__(file)
        self._arena = arena
        self.refs = []

    def persistent_id(self, obj):
        if (self._arena is not None and isinstance(obj, _shmc.BaseProxy)
                and obj._arena is self._arena):
            self.refs.append(obj)
            return len(self.refs) - 1
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, refs):
        super().__init__(file)
        self._refs = refs

    def persistent_load(self, pid):
        return self._refs[pid]


def dumps(obj, arena):
    """obj pickled: (payload, proxies of ARENA kept out of it)."""
    buf = io.BytesIO()
    p = _Pickler(buf, arena)
    p.dump(obj)
    return buf.getvalue(), tuple(p.refs)


def loads(payload, refs):
    return _Unpickler(io.BytesIO(payload), refs).load()


_shmc._set_pickle_helpers(dumps, loads)
