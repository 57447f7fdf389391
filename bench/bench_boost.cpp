/*
 * bench_boost.cpp -- the C++ peer: Boost.Interprocess, as a C++ programmer
 * would share the same data between processes.
 *
 * One managed_shared_memory segment (4 GiB, sparse) holds every container
 * but the big ones, each of which has a segment of its own (so that a child
 * prepares only that segment's pages, as in bench_shmc.c); each container
 * is guarded by its own interprocess_mutex, as every shmc object has its
 * own lock:
 *
 *   namespace    a struct {mutex, int64 x, int64 c, vector<int64> arr},
 *                found by name once (pointers cached, as C++ code would)
 *   dict         boost::unordered_map<int64, int64> and <string, int64>
 *                (system "boost"), and the ordered boost::interprocess::map
 *                (system "boost_map", int keys only)
 *   list         boost::interprocess::vector<int64>
 *   lock         interprocess_mutex lock + unlock
 *   queue        boost::interprocess::message_queue send + receive
 *   alloc        the segment manager's allocate / deallocate
 *   create/open  managed_shared_memory create_only / open_only of a named
 *                4 GiB segment, then its destructor (and remove)
 *
 * String keys are looked up without building a shared string (Boost's
 * compatible-key find), so a get costs no allocation. The memory figures are
 * the segment's free-memory deltas around building the big containers.
 * With --lines (bench/lines.py) the "10k" containers and the list hold
 * LINES_SMALL entries, the 1M ones are not built and no memory figure is
 * taken, as in bench_shmc.c.
 */
#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/list.hpp>
#include <boost/interprocess/containers/map.hpp>
#include <boost/interprocess/containers/string.hpp>
#include <boost/interprocess/containers/vector.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <boost/unordered_map.hpp>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

extern "C" {
#include "bench.h"
}

namespace bip = boost::interprocess;

typedef bip::managed_shared_memory::segment_manager segment_manager;
template <class T> using shm_allocator = bip::allocator<T, segment_manager>;
typedef bip::basic_string<char, std::char_traits<char>, shm_allocator<char>> shm_string;
typedef bip::vector<int64_t, shm_allocator<int64_t>> shm_vector;
typedef std::pair<const int64_t, int64_t> int_entry;
typedef std::pair<const shm_string, int64_t> str_entry;

/* Hashing and equality that accept both shm_string and a (pointer, length)
 * view, so lookups need no shared allocation. */
struct key_view {
	const char *p;
	size_t n;
};
struct str_hash {
	size_t operator()(const shm_string &s) const
	{
		return boost::hash_range(s.begin(), s.end());
	}
	size_t operator()(const key_view &k) const
	{
		return boost::hash_range(k.p, k.p + k.n);
	}
};
struct str_eq {
	bool operator()(const shm_string &a, const shm_string &b) const
	{
		return a == b;
	}
	bool operator()(const key_view &a, const shm_string &b) const
	{
		return a.n == b.size() && std::memcmp(a.p, b.data(), a.n) == 0;
	}
};

typedef boost::unordered_map<int64_t, int64_t, boost::hash<int64_t>, std::equal_to<int64_t>,
			     shm_allocator<int_entry>>
	int_umap;
typedef boost::unordered_map<shm_string, int64_t, str_hash, str_eq, shm_allocator<str_entry>>
	str_umap;
typedef bip::map<int64_t, int64_t, std::less<int64_t>, shm_allocator<int_entry>> int_map;

template <class C> struct guarded {
	bip::interprocess_mutex mu;
	C c;
	explicit guarded(segment_manager *sm) : c(shm_allocator<typename C::value_type>(sm)) {}
	guarded(size_t buckets, segment_manager *sm)
		: c(buckets, typename C::hasher(), typename C::key_equal(),
		    shm_allocator<typename C::value_type>(sm))
	{
	}
};

/* An LRU cache as a C++ programmer builds one in a segment: a map from key
 * to (value, place in a recency list), the list most recent first; a get
 * moves its node to the front, a set of a new key into a full cache drops
 * the back. */
typedef bip::list<int64_t, shm_allocator<int64_t>> shm_list;
struct lru_val {
	int64_t v;
	shm_list::iterator pos;
};
typedef std::pair<const int64_t, lru_val> lru_entry;
typedef boost::unordered_map<int64_t, lru_val, boost::hash<int64_t>, std::equal_to<int64_t>,
			     shm_allocator<lru_entry>>
	lru_map;
struct lru_cache {
	bip::interprocess_mutex mu;
	lru_map m;
	shm_list order;
	size_t cap;
	lru_cache(segment_manager *sm, size_t cap_)
		: m(shm_allocator<lru_entry>(sm)), order(shm_allocator<int64_t>(sm)), cap(cap_)
	{
	}
	lru_val *find(int64_t k) /* and mark it used */
	{
		auto it = m.find(k);
		if (it == m.end())
			return nullptr;
		order.splice(order.begin(), order, it->second.pos);
		return &it->second;
	}
	void insert(int64_t k, int64_t v)
	{
		if (m.size() >= cap) {
			m.erase(order.back());
			order.pop_back();
		}
		order.push_front(k);
		m.emplace(k, lru_val{v, order.begin()});
	}
};

struct shm_namespace {
	bip::interprocess_mutex mu;
	int64_t x = 0;
	int64_t c = 0;
	shm_vector arr;
	explicit shm_namespace(segment_manager *sm) : arr(shm_allocator<int64_t>(sm)) {}
};

static const uint64_t SMALL = 10000, BIG = 1000000, LINES_SMALL = 1000;
static uint64_t small_n = SMALL; /* LINES_SMALL with --lines */
static const size_t SEGMENT = (size_t)4 << 30;

enum { BIG_INT, BIG_STR, BIG_MAP, BIG_LIST, NBIG };

static struct {
	bip::managed_shared_memory *seg;
	bip::managed_shared_memory *big[NBIG]; /* the 1M containers' segments */
	struct bench_ranges big_ranges[NBIG];   /* their mappings */
	std::string big_name[NBIG];
	shm_namespace *ns;
	guarded<int_umap> *dint[2];
	guarded<str_umap> *dstr[2];
	guarded<int_map> *dmap[2];
	guarded<shm_vector> *ls_big, *ls_app;
	bip::interprocess_mutex *lock;
	lru_cache *cache, *cache_ev; /* full, small_n int keys each */
	bip::message_queue *queue;
	std::string seg_name, queue_name, open_name;
	std::vector<int64_t> arr; /* the private copy written back */
	uint64_t ls_len;          /* entries in ls_big */
} S;

/* Operations --------------------------------------------------------------- */

typedef bip::scoped_lock<bip::interprocess_mutex> locked;

static void run_ns_set(void *, int, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		locked l(S.ns->mu);
		S.ns->x = (int64_t)i;
	}
}

static void run_ns_get(void *, int, uint64_t n)
{
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		locked l(S.ns->mu);
		acc += (uint64_t)S.ns->x;
	}
	bench_sink += acc;
}

struct dict_case {
	int kind; /* 0 unordered int, 1 unordered str, 2 ordered int */
	int big;
};

static void run_dict_set(void *arg, int, uint64_t n)
{
	const dict_case *c = (const dict_case *)arg;
	uint64_t size = c->big ? BIG : small_n;
	char buf[BENCH_KEY_LEN + 1];
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = bench_below(&bench_rng, size);
		if (c->kind == 0) {
			guarded<int_umap> *d = S.dint[c->big];
			locked l(d->mu);
			d->c[(int64_t)k] = (int64_t)i;
		} else if (c->kind == 1) {
			guarded<str_umap> *d = S.dstr[c->big];
			bench_key(buf, k);
			locked l(d->mu);
			auto it = d->c.find(key_view{buf, BENCH_KEY_LEN}, str_hash(), str_eq());
			if (it == d->c.end())
				bench_die("missing key");
			it->second = (int64_t)i;
		} else {
			guarded<int_map> *d = S.dmap[c->big];
			locked l(d->mu);
			d->c[(int64_t)k] = (int64_t)i;
		}
	}
}

static void run_dict_get(void *arg, int, uint64_t n)
{
	const dict_case *c = (const dict_case *)arg;
	uint64_t size = c->big ? BIG : small_n, acc = 0;
	char buf[BENCH_KEY_LEN + 1];
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = bench_below(&bench_rng, size);
		if (c->kind == 0) {
			guarded<int_umap> *d = S.dint[c->big];
			locked l(d->mu);
			auto it = d->c.find((int64_t)k);
			if (it == d->c.end())
				bench_die("missing key");
			acc += (uint64_t)it->second;
		} else if (c->kind == 1) {
			guarded<str_umap> *d = S.dstr[c->big];
			bench_key(buf, k);
			locked l(d->mu);
			auto it = d->c.find(key_view{buf, BENCH_KEY_LEN}, str_hash(), str_eq());
			if (it == d->c.end())
				bench_die("missing key");
			acc += (uint64_t)it->second;
		} else {
			guarded<int_map> *d = S.dmap[c->big];
			locked l(d->mu);
			auto it = d->c.find((int64_t)k);
			if (it == d->c.end())
				bench_die("missing key");
			acc += (uint64_t)it->second;
		}
	}
	bench_sink += acc;
}

static void run_list_append(void *, int, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		locked l(S.ls_app->mu);
		S.ls_app->c.push_back((int64_t)i);
	}
}

static void fresh_append_list(void *)
{
	if (S.ls_app)
		S.seg->destroy_ptr(S.ls_app);
	S.ls_app = S.seg->construct<guarded<shm_vector>>(bip::anonymous_instance)(
		S.seg->get_segment_manager());
}

static void run_list_get(void *, int, uint64_t n)
{
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = bench_below(&bench_rng, S.ls_len);
		locked l(S.ls_big->mu);
		if (k >= S.ls_big->c.size())
			bench_die("index out of range");
		acc += (uint64_t)S.ls_big->c[k];
	}
	bench_sink += acc;
}

static void run_ns_add(void *, int, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		locked l(S.ns->mu);
		S.ns->c += 1;
	}
}

static void run_dict_add(void *, int, uint64_t n)
{
	guarded<int_umap> *d = S.dint[0];
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = bench_below(&bench_rng, small_n);
		locked l(d->mu);
		auto it = d->c.find((int64_t)k);
		if (it == d->c.end())
			bench_die("missing key");
		it->second += 1;
	}
}

static void run_plist_read(void *, int, uint64_t n)
{
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		std::vector<int64_t> copy;
		{
			locked l(S.ns->mu);
			copy.assign(S.ns->arr.begin(), S.ns->arr.end());
		}
		acc += (uint64_t)copy[9];
	}
	bench_sink += acc;
}

static void run_plist_write(void *, int, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		locked l(S.ns->mu);
		S.ns->arr.assign(S.arr.begin(), S.arr.end());
	}
}

static void run_cache_get(void *, int, uint64_t n)
{
	uint64_t acc = 0;
	for (uint64_t i = 0; i < n; i++) {
		int64_t k = (int64_t)bench_below(&bench_rng, small_n);
		locked l(S.cache->mu);
		lru_val *e = S.cache->find(k);
		if (e == nullptr)
			bench_die("missing key");
		acc += (uint64_t)e->v;
	}
	bench_sink += acc;
}

static void run_cache_set_evict(void *, int rank, uint64_t n)
{
	static uint64_t next;
	for (uint64_t i = 0; i < n; i++) {
		int64_t k = (int64_t)((uint64_t)getpid() << 32 | (uint64_t)rank << 24 | next++);
		locked l(S.cache_ev->mu);
		lru_val *e = S.cache_ev->find(k);
		if (e)
			e->v = (int64_t)i;
		else
			S.cache_ev->insert(k, (int64_t)i);
	}
}

static void run_cache_incr(void *, int, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		int64_t k = (int64_t)bench_below(&bench_rng, small_n);
		locked l(S.cache->mu);
		lru_val *e = S.cache->find(k);
		if (e)
			e->v += 1;
		else
			S.cache->insert(k, 1);
	}
}

static void run_lock(void *, int, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		S.lock->lock();
		S.lock->unlock();
	}
}

static void run_queue(void *, int, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		int64_t v = (int64_t)i, got;
		bip::message_queue::size_type len;
		unsigned prio;
		S.queue->send(&v, sizeof(v), 0);
		S.queue->receive(&got, sizeof(got), len, prio);
		bench_sink += (uint64_t)got;
	}
}

/* Allocation: the ring pattern of bench_alloc.c on the segment manager. */
static const unsigned RING = 256, NSIZES = 4096;
static void *ring[RING];
static uint64_t sizes[NSIZES];
static uint64_t next_block;

static void alloc_init(void *, int)
{
	for (unsigned i = 0; i < NSIZES; i++)
		sizes[i] = bench_block_size(&bench_rng);
	for (unsigned i = 0; i < RING; i++)
		ring[i] = S.seg->allocate(sizes[i]);
}

static void alloc_fini(void *, int)
{
	for (unsigned i = 0; i < RING; i++)
		S.seg->deallocate(ring[i]);
}

static void run_alloc(void *, int, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++, next_block++) {
		void **slot = &ring[next_block % RING];
		S.seg->deallocate(*slot);
		*slot = S.seg->allocate(sizes[next_block % NSIZES]);
		*(volatile char *)*slot = 1;
	}
}

static void run_create(void *, int, uint64_t n)
{
	std::string name = "shmc-boost-new-" + std::to_string(getpid());
	for (uint64_t i = 0; i < n; i++) {
		{
			bip::managed_shared_memory m(bip::create_only, name.c_str(), SEGMENT);
		}
		bip::shared_memory_object::remove(name.c_str());
	}
}

static void run_open(void *, int, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		bip::managed_shared_memory m(bip::open_only, S.open_name.c_str());
		bench_sink += (uint64_t)m.get_size();
	}
}

/* Set-up -------------------------------------------------------------------- */

template <class G> static G *make_guarded(bip::managed_shared_memory *g)
{
	return g->construct<G>(bip::anonymous_instance)(g->get_segment_manager());
}

/* The segment for container I: its own when BIG, else the shared one. */
static bip::managed_shared_memory *segment_for(int i, int big)
{
	if (!big)
		return S.seg;
	struct bench_ranges before;
	bench_ranges_now(&before);
	S.big_name[i] = "shmc-boost-big" + std::to_string(i) + "-" + std::to_string(getpid());
	bip::shared_memory_object::remove(S.big_name[i].c_str());
	S.big[i] = new bip::managed_shared_memory(bip::create_only, S.big_name[i].c_str(), SEGMENT);
	bench_ranges_new(&before, &S.big_ranges[i]);
	return S.big[i];
}

static void setup()
{
	std::string pid = std::to_string(getpid());
	if (bench_cfg.lines)
		small_n = LINES_SMALL;
	S.seg_name = "shmc-boost-" + pid;
	S.queue_name = "shmc-boost-q-" + pid;
	S.open_name = "shmc-boost-open-" + pid;
	bip::shared_memory_object::remove(S.seg_name.c_str());
	S.seg = new bip::managed_shared_memory(bip::create_only, S.seg_name.c_str(), SEGMENT);
	segment_manager *sm = S.seg->get_segment_manager();

	S.ns = S.seg->find_or_construct<shm_namespace>("ns")(sm);
	for (int64_t i = 1; i <= 10; i++)
		S.arr.push_back(i);
	S.ns->arr.assign(S.arr.begin(), S.arr.end());

	char buf[BENCH_KEY_LEN + 1];
	for (int big = 1 - bench_cfg.lines; big >= 0; big--) {
		uint64_t n = big ? BIG : small_n;
		bip::managed_shared_memory *g = segment_for(BIG_INT, big);
		size_t before = g->get_free_memory();
		S.dint[big] = make_guarded<guarded<int_umap>>(g);
		for (uint64_t k = 0; k < n; k++)
			S.dint[big]->c[(int64_t)k] = (int64_t)k;
		if (big)
			bench_memory("dict_int_1m", n, (double)(before - g->get_free_memory()),
				     "segment free-memory delta; boost::unordered_map<int64,int64>");
		g = segment_for(BIG_STR, big);
		before = g->get_free_memory();
		S.dstr[big] = make_guarded<guarded<str_umap>>(g);
		for (uint64_t k = 0; k < n; k++) {
			bench_key(buf, k);
			S.dstr[big]->c.emplace(shm_string(buf, BENCH_KEY_LEN, g->get_segment_manager()),
					       (int64_t)k);
		}
		if (big)
			bench_memory("dict_str_1m", n, (double)(before - g->get_free_memory()),
				     "segment free-memory delta; boost::unordered_map<string,int64>");
		g = segment_for(BIG_MAP, big);
		before = g->get_free_memory();
		S.dmap[big] = make_guarded<guarded<int_map>>(g);
		for (uint64_t k = 0; k < n; k++)
			S.dmap[big]->c[(int64_t)k] = (int64_t)k;
		if (big)
			bench_memory("map_int_1m", n, (double)(before - g->get_free_memory()),
				     "segment free-memory delta; boost::interprocess::map<int64,int64>");
	}
	S.ls_len = bench_cfg.lines ? LINES_SMALL : BIG;
	bip::managed_shared_memory *g = segment_for(BIG_LIST, !bench_cfg.lines);
	size_t before = g->get_free_memory();
	S.ls_big = make_guarded<guarded<shm_vector>>(g);
	for (uint64_t i = 0; i < S.ls_len; i++)
		S.ls_big->c.push_back((int64_t)i);
	if (!bench_cfg.lines)
		bench_memory("list_int_1m", BIG, (double)(before - g->get_free_memory()),
			     "segment free-memory delta; vector<int64> push_back");
	S.lock = S.seg->construct<bip::interprocess_mutex>(bip::anonymous_instance)();
	S.cache = S.seg->construct<lru_cache>(bip::anonymous_instance)(sm, (size_t)small_n);
	S.cache_ev = S.seg->construct<lru_cache>(bip::anonymous_instance)(sm, (size_t)small_n);
	for (uint64_t k = 0; k < small_n; k++) {
		S.cache->insert((int64_t)k, (int64_t)k);
		S.cache_ev->insert((int64_t)k, (int64_t)k);
	}
	bip::message_queue::remove(S.queue_name.c_str());
	S.queue = new bip::message_queue(bip::create_only, S.queue_name.c_str(), 64,
					 sizeof(int64_t));
}

static void teardown()
{
	delete S.queue;
	bip::message_queue::remove(S.queue_name.c_str());
	delete S.seg;
	bip::shared_memory_object::remove(S.seg_name.c_str());
	for (int i = 0; i < NBIG; i++)
		if (S.big[i]) {
			delete S.big[i];
			bip::shared_memory_object::remove(S.big_name[i].c_str());
		}
}

static bench_op make_op(const char *op, bench_run_fn run, const char *note, void *arg = nullptr,
		       int kind = BENCH_OTHER)
{
	bench_op o;
	std::memset(&o, 0, sizeof(o));
	o.op = op;
	o.run = run;
	o.arg = arg;
	o.note = note;
	o.kind = kind;
	return o;
}

int main(int argc, char **argv)
{
	bench_init(argc, argv, "boost");
	setup();

	static dict_case dc[3][2];
	static const char *const names[3][2][2] = {
		{{"dict_set_int_10k", "dict_get_int_10k"}, {"dict_set_int_1m", "dict_get_int_1m"}},
		{{"dict_set_str_10k", "dict_get_str_10k"}, {"dict_set_str_1m", "dict_get_str_1m"}},
		{{"dict_set_int_10k", "dict_get_int_10k"}, {"dict_set_int_1m", "dict_get_int_1m"}},
	};
	static const char *const notes[3][2] = {
		{"unordered_map<int64,int64>[k] = v under interprocess_mutex",
		 "unordered_map<int64,int64>::find under interprocess_mutex"},
		{"unordered_map<string,int64>::find(view)->second = v under interprocess_mutex",
		 "unordered_map<string,int64>::find(view) under interprocess_mutex"},
		{"interprocess::map<int64,int64>[k] = v under interprocess_mutex",
		 "interprocess::map<int64,int64>::find under interprocess_mutex"},
	};

	bench_op ops[] = {
		make_op("ns_set", run_ns_set, "struct field = v under interprocess_mutex", nullptr,
			BENCH_WRITE),
		make_op("ns_get", run_ns_get, "read struct field under interprocess_mutex", nullptr,
			BENCH_READ),
	};
	for (bench_op &o : ops)
		bench_case(&o);
	for (int kind = 0; kind < 2; kind++)
		for (int big = 0; big < 2 - bench_cfg.lines; big++)
			for (int get = 0; get < 2; get++) {
				dc[kind][big] = dict_case{kind, big};
				bench_op o = make_op(names[kind][big][get],
						     get ? run_dict_get : run_dict_set,
						     notes[kind][get], &dc[kind][big],
						     get ? BENCH_READ : BENCH_WRITE);
				o.prefault = big;
			o.prefault_only = big ? &S.big_ranges[BIG_MAP] : nullptr;
				o.prefault_only = big ? &S.big_ranges[kind == 0 ? BIG_INT : BIG_STR]
						      : nullptr;
				bench_case(&o);
			}

	bench_op append = make_op("list_append", run_list_append,
				  "vector<int64>::push_back under interprocess_mutex", nullptr,
				  BENCH_WRITE);
	append.before = fresh_append_list;
	bench_op more[] = {
		append,
		make_op("list_get", run_list_get,
			"vector<int64>[random of 1e6] under interprocess_mutex", nullptr, BENCH_READ),
		make_op("ns_add", run_ns_add, "struct field += 1 under interprocess_mutex", nullptr,
			BENCH_WRITE),
		make_op("dict_add", run_dict_add,
			"unordered_map<int64,int64>::find(k)->second += 1 under interprocess_mutex",
			nullptr, BENCH_WRITE),
		make_op("plist_read", run_plist_read,
			"copy a shared vector of 10 int64 into a std::vector under interprocess_mutex",
			nullptr, BENCH_READ),
		make_op("plist_write", run_plist_write,
			"assign 10 int64 to a shared vector under interprocess_mutex", nullptr,
			BENCH_WRITE),
		make_op("lock", run_lock, "interprocess_mutex lock + unlock", nullptr, BENCH_WRITE),
		make_op("queue", run_queue, "message_queue send + receive of an int64", nullptr,
			BENCH_WRITE),
		make_op("alloc", run_alloc,
			"segment deallocate + allocate, 16 B-4 KiB log-uniform, ring of 256"),
		make_op("arena_create", run_create,
			"managed_shared_memory(create_only, 4 GiB) + destructor + remove"),
		make_op("cache_get_hit", run_cache_get,
			"LRU map+list: unordered_map::find + list splice to front under interprocess_mutex",
			nullptr, BENCH_READ),
		make_op("cache_set_evict", run_cache_set_evict,
			"LRU map+list: insert a new key, erase the list's back, under interprocess_mutex",
			nullptr, BENCH_WRITE),
		make_op("cache_incr", run_cache_incr,
			"LRU map+list: find + splice + value += 1 under interprocess_mutex", nullptr,
			BENCH_WRITE),
	};
	more[1].prefault = 1; /* list_get: random index of 1e6 */
	more[1].prefault_only = &S.big_ranges[BIG_LIST];
	more[8].child_init = alloc_init;
	more[8].child_fini = alloc_fini;
	for (bench_op &o : more)
		bench_case(&o);
	if (bench_selected("arena_open") && !bench_cfg.lines) {
		bip::shared_memory_object::remove(S.open_name.c_str());
		{
			bip::managed_shared_memory m(bip::create_only, S.open_name.c_str(), SEGMENT);
		}
		bench_op open = make_op("arena_open", run_open,
					"managed_shared_memory(open_only) + destructor, in another process");
		bench_case(&open);
		bip::shared_memory_object::remove(S.open_name.c_str());
	}

	/* The ordered map as a system of its own: int keys only; its latency
	 * is not taken (the table sets shmc beside the unordered_map). */
	bench_cfg.system = "boost_map";
	bench_cfg.lat_procs = 0;
	for (int big = 0; big < 2 - bench_cfg.lines; big++)
		for (int get = 0; get < 2; get++) {
			dc[2][big] = dict_case{2, big};
			bench_op o = make_op(names[2][big][get], get ? run_dict_get : run_dict_set,
					     notes[2][get], &dc[2][big],
					     get ? BENCH_READ : BENCH_WRITE);
			o.prefault = big;
			o.prefault_only = big ? &S.big_ranges[BIG_MAP] : nullptr;
			bench_case(&o);
		}
	teardown();
	return 0;
}
