// OpenBLAS thread count: leaf's cap (all cores by default) and the per-call choice below it.
#ifndef LEAF_GEMM_H
#define LEAF_GEMM_H

int gemm_max_threads(void);
void gemm_set_max_threads(int threads);

#endif
