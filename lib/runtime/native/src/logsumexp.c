// The LM head's log-sum-exp over a vocabulary-wide row and its gradient, each one threaded pass
// over the [rows, vocab] logits (at a 152k vocabulary the logits are the largest activation of a
// pass: the composed ops made six passes and two extra [rows, vocab] buffers).
#include <math.h>
#include "args.h"
#include "parallel.h"

typedef struct {
  const float *x, *dy;
  float *out, *max, *sum;  // the forward pass writes max and sum; the backward pass reads them
  int64_t cols;
} RowsJob;

// The row's max and Σ_j exp(x[j] − max) (accumulated in double), as tfjs's Max, Sub, Exp and Sum
// kernels compute them: both directions round exactly like the composed ops they replace.
static float row_max_sum(const float *x, int64_t cols, double *sum) {
  float max = x[0];
  for (int64_t j = 1; j < cols; j++) max = x[j] > max ? x[j] : max;
  double total = 0;
  for (int64_t j = 0; j < cols; j++) total += expf(x[j] - max);
  *sum = total;
  return max;
}

// out[r] = log Σ_j exp(x[r, j]), keeping the row's max and (float32) sum for the gradient.
static void logsumexp_part(void *arg, int64_t begin, int64_t end) {
  const RowsJob *job = arg;
  for (int64_t r = begin; r < end; r++) {
    double sum;
    job->max[r] = row_max_sum(job->x + r * job->cols, job->cols, &sum);
    job->sum[r] = (float)sum;
    job->out[r] = logf(job->sum[r]) + job->max[r];
  }
}

// out[r, j] = softmax(x[r])[j] · dy[r], as exp(x − max) · (dy / Σ exp(x − max)) from the forward
// pass's max and sum; recomputing the exponentials costs less than keeping a [rows, vocab] buffer.
static void softmax_scale_part(void *arg, int64_t begin, int64_t end) {
  const RowsJob *job = arg;
  for (int64_t r = begin; r < end; r++) {
    const float *x = job->x + r * job->cols;
    float *o = job->out + r * job->cols;
    const float max = job->max[r], scale = job->dy[r] / job->sum[r];
    for (int64_t j = 0; j < job->cols; j++) o[j] = expf(x[j] - max) * scale;
  }
}

static bool whole_rows(const View *x, int64_t cols) { return cols > 0 && x->length % (size_t)cols == 0; }

// logSumExpRows(x, out, max, sum, cols): out, max and sum have one entry per row of x.
DECLARE_ENTRY(logsumexp_rows) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "logSumExpRows")) return NULL;
  View xv, ov, mv, sv;
  int64_t cols;
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, &xv, "logSumExpRows: x must be a Float32Array") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &ov, "logSumExpRows: out must be a Float32Array") ||
      !arg_typed_of(env, argv[2], napi_float32_array, false, &mv, "logSumExpRows: max must be a Float32Array") ||
      !arg_typed_of(env, argv[3], napi_float32_array, false, &sv, "logSumExpRows: sum must be a Float32Array") ||
      !arg_int(env, argv[4], &cols, "logSumExpRows: cols must be a positive integer"))
    return NULL;
  if (!whole_rows(&xv, cols) || ov.length * (size_t)cols != xv.length || mv.length != ov.length || sv.length != ov.length)
    return throw_type_error(env, "logSumExpRows: x must hold out.length rows of cols elements; max and sum one per row");
  RowsJob job = {xv.data, NULL, ov.data, mv.data, sv.data, cols};
  parallel_for((int64_t)ov.length, (int64_t)xv.length, logsumexp_part, &job);
  return NULL;
}

// softmaxScaleRows(x, max, sum, dy, out, cols): max, sum (from logSumExpRows) and dy have one entry per row of x.
DECLARE_ENTRY(softmax_scale_rows) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv, "softmaxScaleRows")) return NULL;
  View xv, mv, sv, dv, ov;
  int64_t cols;
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, &xv, "softmaxScaleRows: x must be a Float32Array") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &mv, "softmaxScaleRows: max must be a Float32Array") ||
      !arg_typed_of(env, argv[2], napi_float32_array, false, &sv, "softmaxScaleRows: sum must be a Float32Array") ||
      !arg_typed_of(env, argv[3], napi_float32_array, false, &dv, "softmaxScaleRows: dy must be a Float32Array") ||
      !arg_typed_of(env, argv[4], napi_float32_array, false, &ov, "softmaxScaleRows: out must be a Float32Array") ||
      !arg_int(env, argv[5], &cols, "softmaxScaleRows: cols must be a positive integer"))
    return NULL;
  if (!whole_rows(&xv, cols) || ov.length != xv.length || dv.length * (size_t)cols != xv.length || mv.length != dv.length || sv.length != dv.length)
    return throw_type_error(env, "softmaxScaleRows: x and out must hold dy.length rows of cols elements; max and sum one per row");
  RowsJob job = {xv.data, dv.data, ov.data, mv.data, sv.data, cols};
  parallel_for((int64_t)dv.length, (int64_t)xv.length, softmax_scale_part, &job);
  return NULL;
}
