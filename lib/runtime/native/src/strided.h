// Walks the rows of an N-D iteration space (every dimension but the last) for up to three strided
// operands at once, keeping each operand's element offset; kernels run their inner loop per row.
#ifndef LEAF_STRIDED_H
#define LEAF_STRIDED_H

#include "args.h"

typedef struct {
  int outer_rank;
  const int32_t *shape;
  const int32_t *strides[3];
  int64_t offset[3];
  int operands;
  int32_t index[LEAF_MAX_RANK];
} RowIter;

static inline void row_iter_init(RowIter *it, int rank, const int32_t *shape, int operands, const int32_t *const *strides,
                                 const int64_t *offsets) {
  it->outer_rank = rank > 0 ? rank - 1 : 0;
  it->shape = shape;
  it->operands = operands;
  for (int k = 0; k < operands; k++) {
    it->strides[k] = strides[k];
    it->offset[k] = offsets[k];
  }
  for (int d = 0; d < LEAF_MAX_RANK; d++) it->index[d] = 0;
}

static inline void row_iter_next(RowIter *it) {
  for (int d = it->outer_rank - 1; d >= 0; d--) {
    for (int k = 0; k < it->operands; k++) it->offset[k] += it->strides[k][d];
    if (++it->index[d] < it->shape[d]) return;
    for (int k = 0; k < it->operands; k++) it->offset[k] -= (int64_t)it->strides[k][d] * it->shape[d];
    it->index[d] = 0;
  }
}

// Moves a freshly initialised iterator to `row` (row-major over the outer dimensions), so that
// threads can each walk their own range of rows.
static inline void row_iter_seek(RowIter *it, int64_t row) {
  for (int d = it->outer_rank - 1; d >= 0; d--) {
    it->index[d] = (int32_t)(row % it->shape[d]);
    row /= it->shape[d];
    for (int k = 0; k < it->operands; k++) it->offset[k] += (int64_t)it->index[d] * it->strides[k][d];
  }
}

// Rows in the space and the length/strides of the innermost dimension (a rank-0 space is one row of one).
static inline int64_t row_count(int rank, const int32_t *shape) {
  return rank > 0 ? shape_size(shape, rank - 1) : 1;
}
static inline int64_t inner_length(int rank, const int32_t *shape) { return rank > 0 ? shape[rank - 1] : 1; }
static inline int64_t inner_stride(int rank, const int32_t *strides) { return rank > 0 ? strides[rank - 1] : 0; }

#endif
