// Element-wise float32 kernels: broadcasting binary arithmetic, unary maths and last-axis softmax.
// tfjs's cpu backend evaluates these in JavaScript with per-element index arithmetic whenever
// shapes differ (50–300 ns per element), which dominates a transformer pass once matmul is fast.
#include <math.h>
#include "parallel.h"
#include "strided.h"

// Binary operation codes shared with lib/runtime/kernels/native/binary.ts.
enum { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_MAX, BIN_MIN, BIN_SQUARED_DIFFERENCE, BIN_COUNT };

#define BINARY_ROW(EXPR)                                                                  \
  do {                                                                                    \
    if (sa == 1 && sb == 1)                                                               \
      for (int64_t j = 0; j < n; j++) { const float x = a[j], y = b[j]; o[j] = (EXPR); }  \
    else if (sa == 1 && sb == 0) {                                                        \
      const float y = b[0];                                                               \
      for (int64_t j = 0; j < n; j++) { const float x = a[j]; o[j] = (EXPR); }            \
    } else if (sa == 0 && sb == 1) {                                                      \
      const float x = a[0];                                                               \
      for (int64_t j = 0; j < n; j++) { const float y = b[j]; o[j] = (EXPR); }            \
    } else                                                                                \
      for (int64_t j = 0; j < n; j++) { const float x = a[j * sa], y = b[j * sb]; o[j] = (EXPR); } \
  } while (0)

static inline float max_nan(float x, float y) { return (isnan(x) || isnan(y)) ? NAN : (x > y ? x : y); }
static inline float min_nan(float x, float y) { return (isnan(x) || isnan(y)) ? NAN : (x < y ? x : y); }

typedef struct {
  int64_t op;
  const float *a, *b;
  float *out;
  const int32_t *strides[2];
  int rank;
  const int32_t *dims;
  int64_t rows, n, sa, sb;
} BinaryJob;

static void binary_row(int64_t op, const float *a, int64_t sa, const float *b, int64_t sb, float *o, int64_t n) {
  switch (op) {
    case BIN_ADD: BINARY_ROW(x + y); break;
    case BIN_SUB: BINARY_ROW(x - y); break;
    case BIN_MUL: BINARY_ROW(x * y); break;
    case BIN_DIV: BINARY_ROW(x / y); break;
    case BIN_MAX: BINARY_ROW(max_nan(x, y)); break;
    case BIN_MIN: BINARY_ROW(min_nan(x, y)); break;
    case BIN_SQUARED_DIFFERENCE: BINARY_ROW((x - y) * (x - y)); break;
  }
}

static void binary_rows(void *arg, int64_t begin, int64_t end) {
  const BinaryJob *job = arg;
  const int64_t offsets[2] = {0, 0};
  RowIter it;
  row_iter_init(&it, job->rank, job->dims, 2, job->strides, offsets);
  row_iter_seek(&it, begin);
  for (int64_t r = begin; r < end; r++, row_iter_next(&it))
    binary_row(job->op, job->a + it.offset[0], job->sa, job->b + it.offset[1], job->sb, job->out + r * job->n, job->n);
}

// Elements [begin, end) of the single row.
static void binary_span(void *arg, int64_t begin, int64_t end) {
  const BinaryJob *job = arg;
  binary_row(job->op, job->a + begin * job->sa, job->sa, job->b + begin * job->sb, job->sb, job->out + begin, end - begin);
}

// binary(op, a, aStrides, b, bStrides, out, shape)
// out (contiguous, size of shape) = a ∘ b, each operand read through its own strides (0 where it
// broadcasts).
DECLARE_ENTRY(binary) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv, "binary")) return NULL;
  int64_t op;
  View av, as, bv, bs, ov, shape;
  if (!arg_int(env, argv[0], &op, "binary: op must be an operation code") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &av, "binary: a must be a Float32Array") ||
      !arg_dims(env, argv[2], &as, "binary: aStrides must be an Int32Array of non-negative strides") ||
      !arg_typed_of(env, argv[3], napi_float32_array, false, &bv, "binary: b must be a Float32Array") ||
      !arg_dims(env, argv[4], &bs, "binary: bStrides must be an Int32Array of non-negative strides") ||
      !arg_typed_of(env, argv[5], napi_float32_array, false, &ov, "binary: out must be a Float32Array") ||
      !arg_dims(env, argv[6], &shape, "binary: shape must be an Int32Array of non-negative sizes"))
    return NULL;
  if (op >= BIN_COUNT) return throw_type_error(env, "binary: unknown operation code");
  const int rank = (int)shape.length;
  const int32_t *dims = shape.data;
  if (as.length != shape.length || bs.length != shape.length)
    return throw_type_error(env, "binary: strides and shape differ in rank");
  if ((int64_t)ov.length != shape_size(dims, rank)) return throw_type_error(env, "binary: out does not match shape");
  if (!strided_fits(0, dims, as.data, rank, av.length) || !strided_fits(0, dims, bs.data, rank, bv.length))
    return throw_type_error(env, "binary: the index space reaches outside a or b");
  if (ov.length == 0) return NULL;

  BinaryJob job = {op, av.data, bv.data, ov.data, {as.data, bs.data}, rank, dims, row_count(rank, dims), inner_length(rank, dims),
                   inner_stride(rank, as.data), inner_stride(rank, bs.data)};
  // One long row (a flat operand) splits along the row instead.
  if (job.rows == 1) parallel_for(job.n, job.n, binary_span, &job);
  else parallel_for(job.rows, job.rows * job.n, binary_rows, &job);
  return NULL;
}

// Unary operation codes shared with lib/runtime/kernels/native/unary.ts.
enum { UN_EXP, UN_LOG, UN_SIGMOID, UN_SQRT, UN_RSQRT, UN_NEG, UN_SQUARE, UN_TANH, UN_COUNT };

typedef struct {
  int64_t op;
  const float *x;
  float *out;
} UnaryJob;

static void unary_part(void *arg, int64_t begin, int64_t end) {
  const UnaryJob *job = arg;
  const float *x = job->x;
  float *o = job->out;
  switch (job->op) {
    case UN_EXP: for (int64_t i = begin; i < end; i++) o[i] = expf(x[i]); break;
    case UN_LOG: for (int64_t i = begin; i < end; i++) o[i] = logf(x[i]); break;
    case UN_SIGMOID: for (int64_t i = begin; i < end; i++) o[i] = 1.0f / (1.0f + expf(-x[i])); break;
    case UN_SQRT: for (int64_t i = begin; i < end; i++) o[i] = sqrtf(x[i]); break;
    case UN_RSQRT: for (int64_t i = begin; i < end; i++) o[i] = 1.0f / sqrtf(x[i]); break;
    case UN_NEG: for (int64_t i = begin; i < end; i++) o[i] = -x[i]; break;
    case UN_SQUARE: for (int64_t i = begin; i < end; i++) o[i] = x[i] * x[i]; break;
    case UN_TANH: for (int64_t i = begin; i < end; i++) o[i] = tanhf(x[i]); break;
  }
}

// unary(op, x, out): out[i] = f(x[i]); x and out may be the same array.
DECLARE_ENTRY(unary) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "unary")) return NULL;
  int64_t op;
  View xv, ov;
  if (!arg_int(env, argv[0], &op, "unary: op must be an operation code") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &xv, "unary: x must be a Float32Array") ||
      !arg_typed_of(env, argv[2], napi_float32_array, false, &ov, "unary: out must be a Float32Array"))
    return NULL;
  if (op >= UN_COUNT) return throw_type_error(env, "unary: unknown operation code");
  if (xv.length != ov.length) return throw_type_error(env, "unary: x and out differ in length");
  UnaryJob job = {op, xv.data, ov.data};
  parallel_for((int64_t)xv.length, (int64_t)xv.length, unary_part, &job);
  return NULL;
}

typedef struct {
  int64_t op;
  const float *x;
  float *out;
  int64_t cols;
} RowJob;

static void softmax_part(void *arg, int64_t begin, int64_t end) {
  const RowJob *job = arg;
  const int64_t cols = job->cols;
  for (int64_t r = begin; r < end; r++) {
    const float *x = job->x + r * cols;
    float *o = job->out + r * cols;
    float max = x[0];
    for (int64_t j = 1; j < cols; j++) max = x[j] > max ? x[j] : max;
    double sum = 0;
    for (int64_t j = 0; j < cols; j++) {
      o[j] = expf(x[j] - max);
      sum += o[j];
    }
    const float total = (float)sum;
    for (int64_t j = 0; j < cols; j++) o[j] /= total;
  }
}

// softmax(x, out, cols): softmax over each contiguous row of `cols` elements, as tfjs defines it
// (exp(x - max) / Σ exp(x - max)); the sum is accumulated in double.
DECLARE_ENTRY(softmax) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "softmax")) return NULL;
  View xv, ov;
  int64_t cols;
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, &xv, "softmax: x must be a Float32Array") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &ov, "softmax: out must be a Float32Array") ||
      !arg_int(env, argv[2], &cols, "softmax: cols must be a positive integer"))
    return NULL;
  if (cols == 0 || xv.length != ov.length || xv.length % (size_t)cols)
    return throw_type_error(env, "softmax: x and out must hold whole rows of cols elements");
  RowJob job = {0, xv.data, ov.data, cols};
  parallel_for((int64_t)(xv.length / (size_t)cols), (int64_t)xv.length, softmax_part, &job);
  return NULL;
}

// Reduction codes shared with lib/runtime/kernels/native/reduce.ts.
enum { RED_SUM, RED_MEAN, RED_MAX, RED_MIN, RED_COUNT };

static void reduce_part(void *arg, int64_t begin, int64_t end) {
  const RowJob *job = arg;
  const int64_t op = job->op, cols = job->cols;
  for (int64_t r = begin; r < end; r++) {
    const float *x = job->x + r * cols;
    if (op == RED_SUM || op == RED_MEAN) {
      double sum = 0;
      for (int64_t j = 0; j < cols; j++) sum += x[j];
      job->out[r] = (float)(op == RED_MEAN ? sum / (double)cols : sum);
    } else {
      float best = x[0];
      for (int64_t j = 1; j < cols && !isnan(best); j++) {
        const float v = x[j];
        if (isnan(v) || (op == RED_MAX ? v > best : v < best)) best = v;
      }
      job->out[r] = best;
    }
  }
}

// reduce(op, x, out, cols): out[r] = reduction of the contiguous row r of `cols` elements (cols > 0).
// Sums accumulate in double, like tfjs's JavaScript loops; max/min propagate NaN as Math.max does.
DECLARE_ENTRY(reduce) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv, "reduce")) return NULL;
  int64_t op, cols;
  View xv, ov;
  if (!arg_int(env, argv[0], &op, "reduce: op must be an operation code") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &xv, "reduce: x must be a Float32Array") ||
      !arg_typed_of(env, argv[2], napi_float32_array, false, &ov, "reduce: out must be a Float32Array") ||
      !arg_int(env, argv[3], &cols, "reduce: cols must be a positive integer"))
    return NULL;
  if (op >= RED_COUNT) return throw_type_error(env, "reduce: unknown operation code");
  if (cols == 0 || xv.length != ov.length * (size_t)cols) return throw_type_error(env, "reduce: x must hold out.length rows of cols elements");
  RowJob job = {op, xv.data, ov.data, cols};
  parallel_for((int64_t)ov.length, (int64_t)xv.length, reduce_part, &job);
  return NULL;
}
