/*
 * pyexc.c -- the Python exception a return code stands for.
 *
 * Python raises different exceptions for what shmc reports with one code:
 * a missing item is IndexError for ls[i] but ValueError for ls.index(x); a
 * timeout is a False return for lock.acquire() but BrokenBarrierError for
 * barrier.wait(). So the answer depends on the call, named as the shmc
 * function that returned the code.
 */
#include <errno.h>
#include <string.h>

#include "shmc.h"

/* Whether CALL (a shmc function's name, or NULL) ends with SUFFIX. */
static int ends_with(const char *call, const char *suffix)
{
	size_t n = call ? strlen(call) : 0, k = strlen(suffix);
	return n >= k && strcmp(call + n - k, suffix) == 0;
}

static int starts_with(const char *call, const char *prefix)
{
	return call && strncmp(call, prefix, strlen(prefix)) == 0;
}

const char *shmc_python_exception(int rc, const char *call)
{
	if (rc >= 0)
		return NULL;
	switch (rc) {
	case SHMC_EKEY:
		return "KeyError";
	case SHMC_EATTR:
	case SHMC_ENOFUNC: /* no such function in the workers' program */
		return "AttributeError";
	case SHMC_EINDEX: /* list.index(x) and list.remove(x) of a missing x */
		return ends_with(call, "_index") || ends_with(call, "_remove") ? "ValueError"
									       : "IndexError";
	case SHMC_ETYPE:
	case SHMC_EUNHASHABLE:
	case SHMC_EKIND:
		return "TypeError";
	case SHMC_EDEPTH:
		return "RecursionError";
	case SHMC_EQUEUEEMPTY:
		return "queue.Empty";
	case SHMC_EQUEUEFULL:
		return "queue.Full";
	case SHMC_EBROKEN:
		return "threading.BrokenBarrierError";
	case SHMC_ENOTHELD:
	case SHMC_EWORKERDIED: /* Python's pool would hang; shmc fails the task */
	case SHMC_ECHANGED: /* a dict changed size (or keys) under an iterator */
	case SHMC_ECONFLICT: /* set_if: changed since read (no Python equivalent) */
	case -EDEADLK: /* Python would deadlock; shmc refuses */
		return "RuntimeError";
	case SHMC_EBOUND:  /* BoundedSemaphore released too many times */
	case SHMC_ENOTASK: /* task_done() called too many times */
	case SHMC_ESIZE:   /* ls[::2] = seq of another length */
	case SHMC_ENOTRUNNING: /* "Pool not running" */
	case SHMC_ERUNNING:    /* join() before close() */
	case SHMC_ENOTREADY:   /* successful() before the result */
	case SHMC_ECHECKSUM:   /* a save file truncated or corrupt */
	case -EINVAL:
		return "ValueError";
	case SHMC_EOWNERDEAD: /* acquired: a warning, not an exception */
		return "RuntimeWarning";
	case SHMC_EFULL:
	case -ENOMEM:
		return "MemoryError";
	case -ERANGE:
	case -EOVERFLOW:
		return "OverflowError";
	case -EILSEQ:
		return "UnicodeError";
	case -ETIMEDOUT:
		if (ends_with(call, "barrier_wait"))
			return "threading.BrokenBarrierError";
		if (starts_with(call, "shmc_pool") || starts_with(call, "shmc_async"))
			return "multiprocessing.TimeoutError";
		return NULL; /* acquire(), wait(): Python returns False */
	default:
		return rc > -4096 ? "OSError" : "shmc.Error";
	}
}
