import multiprocessing


def worker(lock, queue, counter, n):
    for i in range(n):
        with lock:
            counter.value += 1
            seen = counter.value
        queue.put(('item', i, seen))
    queue.put(None)


if __name__ == '__main__':
    manager = multiprocessing.Manager()
    lock = manager.Lock()
    queue = manager.Queue()
    counter = manager.Value('i', 0)
    print(lock, repr(lock), sep='\n')
    print(queue, repr(queue), sep='\n')
    print(counter, repr(counter), sep='\n')
    p = multiprocessing.Process(target=worker, args=(lock, queue, counter, 3))
    p.start()
    items = []
    while True:
        item = queue.get()
        if item is None:
            break
        items.append(item)
    p.join()
    print('received', items)
    print('counter', counter.value, counter)
    with lock:
        print('inside', lock)
    print('after', lock)
    print('qsize', queue.qsize(), 'empty', queue.empty())
    queue.put_nowait([1, 'two', (3.5, None)])
    print('get_nowait', queue.get_nowait())
    try:
        queue.get(timeout=0.05)
    except Exception as e:
        print('get timed out:', type(e).__name__)
    counter.set(counter.get() * 10)
    print('counter', counter.get(), counter)
