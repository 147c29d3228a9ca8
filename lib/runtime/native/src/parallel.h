// Splits element-wise and row-wise kernels over OpenBLAS's thread budget (both cores here): tfjs
// calls kernels one at a time, so a single-threaded kernel leaves the other core idle.
#ifndef LEAF_PARALLEL_H
#define LEAF_PARALLEL_H

#include <stdbool.h>
#include <stdint.h>

// fn(ctx, begin, end) over [0, count) in contiguous parts, one per thread; `work` (elements
// touched) below a threshold runs inline on the caller, where a thread start would cost more.
typedef void (*range_fn)(void *ctx, int64_t begin, int64_t end);
void parallel_for(int64_t count, int64_t work, range_fn fn, void *ctx);

#endif
