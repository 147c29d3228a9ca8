#include "parallel.h"
#include <pthread.h>
#include "gemm.h"

// Measured here: a pthread start/join costs ~30 µs; element-wise float work runs ~1 ns/element,
// so below ~256k elements a second thread cannot pay for itself.
#define PARALLEL_MIN_WORK (1 << 18)
#define PARALLEL_MAX_THREADS 16

typedef struct {
  range_fn fn;
  void *ctx;
  int64_t begin, end;
} Part;

static void *run_part(void *arg) {
  Part *p = arg;
  p->fn(p->ctx, p->begin, p->end);
  return NULL;
}

void parallel_for(int64_t count, int64_t work, range_fn fn, void *ctx) {
  int threads = gemm_max_threads();
  if (threads > PARALLEL_MAX_THREADS) threads = PARALLEL_MAX_THREADS;
  if (threads > count) threads = (int)count;
  if (threads <= 1 || work < PARALLEL_MIN_WORK) {
    if (count > 0) fn(ctx, 0, count);
    return;
  }
  Part parts[PARALLEL_MAX_THREADS];
  pthread_t ids[PARALLEL_MAX_THREADS];
  bool started[PARALLEL_MAX_THREADS] = {false};
  for (int t = 0; t < threads; t++)
    parts[t] = (Part){fn, ctx, count * t / threads, count * (t + 1) / threads};
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&ids[t], NULL, run_part, &parts[t]) == 0;
  run_part(&parts[0]);
  // A part whose thread could not start runs here, so the result never depends on thread limits.
  for (int t = 1; t < threads; t++) {
    if (started[t]) pthread_join(ids[t], NULL);
    else run_part(&parts[t]);
  }
}
