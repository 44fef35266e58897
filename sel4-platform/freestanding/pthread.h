/* Stand-in <pthread.h> for the freestanding (picolibc) build: quickjs-ng's cutils.h includes it
 * unconditionally on "POSIX" targets, but with __STDC_NO_ATOMICS__=1 (an ENGINE_DEFINE) nothing in the
 * engine creates a thread or takes a lock, so only the names must exist. Declarations, no definitions:
 * a link that needs one is a bug to see, not to paper over. Deliberately not an engine define, so the
 * bytecode fingerprint stays the host's (see sel4-platform/README.md). */
#ifndef COHESIX_FREESTANDING_PTHREAD_H
#define COHESIX_FREESTANDING_PTHREAD_H

#include <time.h>

typedef int pthread_once_t;
typedef struct { int unused; } pthread_mutex_t;
typedef struct { int unused; } pthread_mutexattr_t;
typedef struct { int unused; } pthread_cond_t;
typedef struct { int unused; } pthread_condattr_t;
typedef struct { int unused; } pthread_attr_t;
typedef unsigned long pthread_t;

#define PTHREAD_ONCE_INIT 0
#define PTHREAD_CREATE_DETACHED 1

int pthread_once(pthread_once_t *once, void (*fn)(void));
int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);
int pthread_mutex_destroy(pthread_mutex_t *m);
int pthread_mutex_lock(pthread_mutex_t *m);
int pthread_mutex_unlock(pthread_mutex_t *m);
int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a);
int pthread_cond_destroy(pthread_cond_t *c);
int pthread_cond_signal(pthread_cond_t *c);
int pthread_cond_broadcast(pthread_cond_t *c);
int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t);
int pthread_condattr_init(pthread_condattr_t *a);
int pthread_condattr_setclock(pthread_condattr_t *a, int clock);
int pthread_condattr_destroy(pthread_condattr_t *a);
int pthread_attr_init(pthread_attr_t *a);
int pthread_attr_setstacksize(pthread_attr_t *a, unsigned long size);
int pthread_attr_setdetachstate(pthread_attr_t *a, int state);
int pthread_attr_destroy(pthread_attr_t *a);
int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int pthread_join(pthread_t t, void **ret);

#endif
