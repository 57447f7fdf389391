/*
 * supervisor.c -- the pool's processes: a supervisor, forked by
 * shmc_pool_new(), and the workers it forks.
 *
 * The supervisor keeps NWORKERS workers alive. Worker I has entry I in the
 * pool (pool.h); the supervisor alone knows each worker's pid (in its own
 * memory) and is the only one that may waitpid() it, so it is the one that
 * replaces it: after waitpid() it finishes the chunk the worker left
 * (board.c) and forks another, into the same entry, while the pool is
 * running (or closed with work left). It sleeps on the pool's sup_word in
 * naps of NAP; a worker's death ends the sleep (a SIGCHLD handler bumps
 * sup_word, and is installed without SA_RESTART), and so does a worker
 * that ends of itself, a close() or a terminate() (they bump sup_word).
 *
 * It ends:
 *   - after close(), once no chunk is pending and no worker is left;
 *   - on terminate(): it kills every worker (SIGKILL), waits for them,
 *     fails what they ran with -ECANCELED, and ends;
 *   - when the creator has gone: the process that created the pool exited
 *     (getppid() changes) or closed the arena (its token is dead): then it
 *     terminates the pool as terminate() would. This is checked every nap,
 *     not by PR_SET_PDEATHSIG, which would fire when the creating *thread*
 *     exits.
 * Before ending it bumps `gone`, which join() sleeps on.
 *
 * A worker dies with its supervisor (PR_SET_PDEATHSIG: the supervisor has
 * one thread), so a killed supervisor leaves no worker behind; whoever
 * notices a dead supervisor fails the pending chunks (board.c).
 *
 * A worker runs the initializer, then loops: under the pool's lock, claim a
 * chunk (or sleep on `work`, or end when the pool is closed and nothing is
 * pending); run it without the lock; under the lock, complete it. It ends
 * after maxtasksperchild chunks. A worker that could not start (no process
 * slot in the arena, or an initializer that failed) exits with STARTUP:
 * the supervisor then waits PAUSE before it forks the next, so that a
 * failure that repeats does not turn into a loop of forks.
 *
 * Signals. The supervisor runs no code of the creator's: handlers it
 * inherited are reset to the default (ignored signals stay ignored), its
 * mask is emptied. A worker gets back the creator's handlers and mask, as
 * a forked Python worker has them. Both end with _exit(): no atexit handler
 * of the creator runs twice; a worker flushes stdio first (new() flushed it
 * before forking, so only the tasks' own output is in the buffers).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool/pool.h"

#define NAP_NS 20000000L       /* the supervisor's nap: 20 ms */
#define IDLE_NAP_NS 100000000L /* an idle worker's: 100 ms (a lost wake-up) */
#define PAUSE_NS 100000000L    /* before forking again after a failed start */
#define STARTUP 3              /* exit status: the worker could not start */

/* The supervisor's and its workers' own memory (fork copies it). */
static struct {
	shmc_obj_t *h;
	shmc_arena_t *a;
	struct shmc__obj *p;
	struct shmc__pool *b;
	shmc_pool_options_t opts;
	pid_t creator;
	uint32_t n;
	pid_t pids[SHMC_POOL_MAX_WORKERS]; /* supervisor: worker I's pid, 0: none */
	int64_t not_before;                /* supervisor: no fork before this */
	struct sigaction saved[NSIG];      /* the creator's handlers */
	sigset_t saved_mask;
} S;

static void on_child(int sig)
{
	(void)sig;
	/* Change the word the supervisor sleeps on (it read it before it
	 * looked for ended children): a death at any moment after that look
	 * makes the sleep return at once. A lock-free atomic is
	 * async-signal-safe. */
	if (S.b)
		atomic_fetch_add_explicit(&S.b->sup_word, 1, memory_order_relaxed);
}

static void lock_or_die(void)
{
	if (shmc__pool_lock(S.a, S.p) != 0)
		_exit(5); /* a broken pool: nothing left to do */
}

/* Workers ------------------------------------------------------------------- */

static _Noreturn void worker_exit(int status)
{
	fflush(NULL);
	shmc__pool_bump(&S.b->sup_word);
	_exit(status);
}

static void restore_signals(void)
{
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &S.saved[sig], NULL);
	sigprocmask(SIG_SETMASK, &S.saved_mask, NULL);
}

static _Noreturn void worker(uint32_t i, pid_t supervisor)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != supervisor)
		_exit(0); /* it died before we could ask to follow it */
	restore_signals();
	struct shmc__obj *p;
	if (shmc__resolve(S.h, SHMC_KIND_POOL, &p) != 0)
		_exit(STARTUP); /* this process got no slot in the arena */
	struct shmc__pool_worker *w = &S.b->workers[i];
	lock_or_die();
	st_relaxed(&w->pid, (uint32_t)getpid());
	st_relaxed(&w->token, S.a->token);
	shmc__pool_unlock(S.a, S.p);
	if (S.opts.initializer && S.opts.initializer(S.opts.ctx) != 0)
		worker_exit(STARTUP);
	for (unsigned done = 0;;) {
		uint64_t joff, c;
		lock_or_die();
		int what = shmc__board_claim_locked(S.a, S.p, i, &joff, &c);
		if (what == SHMC__CLAIM_STOP) {
			shmc__pool_unlock(S.a, S.p);
			worker_exit(0);
		}
		if (what == SHMC__CLAIM_WAIT) {
			uint32_t seen = ld_relaxed(&S.b->work);
			shmc__pool_unlock(S.a, S.p);
			/* A submitter bumps `work` after its job is on the board:
			 * if that was after our look, the word differs now. */
			shmc__futex_wait(&S.b->work, seen, IDLE_NAP_NS);
			continue;
		}
		shmc__pool_unlock(S.a, S.p);
		/* The board's reference keeps the job alive: it cannot finish
		 * while this chunk runs. */
		struct shmc__obj *jo = shmc__job_at(S.a, joff);
		int err = jo ? shmc__job_run(S.a, jo, c, S.opts.ctx) : SHMC_ECORRUPT;
		lock_or_die();
		if (jo)
			shmc__board_complete_locked(S.a, S.p, jo, c, err);
		st_relaxed(&w->tasks, ld_relaxed(&w->tasks) + 1);
		st_relaxed(&w->job_off, 0);
		shmc__pool_unlock(S.a, S.p);
		if (S.opts.maxtasksperchild && ++done >= S.opts.maxtasksperchild)
			worker_exit(0);
	}
}

/* The supervisor ------------------------------------------------------------- */

/* Fork worker I into its entry (cleared first). */
static void spawn(uint32_t i)
{
	struct shmc__pool_worker *w = &S.b->workers[i];
	lock_or_die();
	shmc__board_reap_locked(S.a, S.p); /* what the last one left */
	st_relaxed(&w->token, 0);
	st_relaxed(&w->job_off, 0);
	st_relaxed(&w->pid, 0);
	st_relaxed(&S.b->started, ld_relaxed(&S.b->started) + 1);
	shmc__pool_unlock(S.a, S.p);
	pid_t me = getpid(), pid = fork();
	if (pid == 0)
		worker(i, me);
	if (pid < 0) {
		S.not_before = shmc__now_ns() + PAUSE_NS;
		return;
	}
	S.pids[i] = pid;
}

/* Collect the workers that ended. @return how many */
static int collect(void)
{
	int n = 0, st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (uint32_t i = 0; i < S.n; i++)
			if (S.pids[i] == pid)
				S.pids[i] = 0;
		if (WIFEXITED(st) && WEXITSTATUS(st) == STARTUP)
			S.not_before = shmc__now_ns() + PAUSE_NS;
		n++;
	}
	return n;
}

static bool creator_gone(void)
{
	return getppid() != S.creator || !shmc__token_alive(S.a, S.b->creator_token);
}

static _Noreturn void finish(void)
{
	shmc__pool_bump(&S.b->gone);
	_exit(0);
}

/* terminate(): kill the workers, wait for them, fail what they ran. */
static _Noreturn void stop(void)
{
	for (uint32_t i = 0; i < S.n; i++)
		if (S.pids[i] > 0)
			kill(S.pids[i], SIGKILL);
	for (uint32_t i = 0; i < S.n; i++)
		if (S.pids[i] > 0)
			while (waitpid(S.pids[i], NULL, 0) < 0 && errno == EINTR)
				;
	lock_or_die();
	shmc__board_reap_locked(S.a, S.p);
	shmc__board_cancel_locked(S.a, S.p, -ECANCELED);
	shmc__pool_unlock(S.a, S.p);
	finish();
}

static void save_and_reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &S.saved[sig]) != 0)
			continue;
		if (S.saved[sig].sa_handler != SIG_IGN && S.saved[sig].sa_handler != SIG_DFL)
			signal(sig, SIG_DFL);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child; /* no SA_RESTART: the sleep is cut short */
	sigaction(SIGCHLD, &sa, NULL);
	sigprocmask(SIG_SETMASK, &none, &S.saved_mask);
}

_Noreturn void shmc__pool_supervise(shmc_obj_t *h, const shmc_pool_options_t *opts)
{
	struct shmc__obj *p;
	if (shmc__resolve(h, SHMC_KIND_POOL, &p) != 0)
		_exit(STARTUP); /* this process got no slot in the arena */
	S.h = h;
	S.a = shmc__handle_arena(h);
	S.p = p;
	S.b = shmc__pool_body(p);
	S.opts = *opts;
	S.n = S.b->nworkers;
	S.creator = (pid_t)S.b->creator_pid;
	if (getppid() != S.creator)
		_exit(0);
	save_and_reset_signals();
	prctl(PR_SET_NAME, "shmc-pool");
	lock_or_die();
	st_relaxed(&S.b->sup_pid, (uint32_t)getpid());
	st_relaxed(&S.b->sup_token, S.a->token);
	shmc__pool_unlock(S.a, S.p);
	shmc__pool_bump(&S.b->sup_word); /* new() waits for this */
	for (uint32_t i = 0; i < S.n; i++)
		spawn(i);
	for (;;) {
		uint32_t seen = ld_acquire(&S.b->sup_word);
		bool reaped = collect() > 0;
		if (creator_gone()) {
			lock_or_die();
			if (ld_relaxed(&S.b->state) != SHMC__POOL_TERMINATE) {
				st_relaxed(&S.b->state, SHMC__POOL_TERMINATE);
				shmc__board_cancel_locked(S.a, S.p, -ECANCELED);
			}
			shmc__pool_unlock(S.a, S.p);
		}
		lock_or_die();
		if (reaped)
			shmc__board_reap_locked(S.a, S.p);
		uint32_t state = ld_relaxed(&S.b->state);
		bool pending = shmc__board_pending_locked(S.a, S.p);
		shmc__pool_unlock(S.a, S.p);
		if (state == SHMC__POOL_TERMINATE)
			stop();
		uint32_t alive = 0;
		for (uint32_t i = 0; i < S.n; i++)
			alive += S.pids[i] != 0;
		if (state == SHMC__POOL_CLOSE && alive == 0 && !pending)
			finish();
		bool want = state == SHMC__POOL_RUN || pending;
		if (want && shmc__now_ns() >= S.not_before)
			for (uint32_t i = 0; i < S.n; i++)
				if (S.pids[i] == 0)
					spawn(i);
		shmc__futex_wait(&S.b->sup_word, seen, NAP_NS);
	}
}
