// The LM head's log-sum-exp over a vocabulary-wide row and its gradient, each one threaded pass
// over the [rows, vocab] logits (at a 152k vocabulary the logits are the largest activation of a
// pass: the composed ops made six passes and two extra [rows, vocab] buffers).
#include <math.h>
#include "args.h"
#include "parallel.h"

typedef struct {
  const float *x, *dy;
  float *out;
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

// out[r] = log Σ_j exp(x[r, j]).
static void logsumexp_part(void *arg, int64_t begin, int64_t end) {
  const RowsJob *job = arg;
  for (int64_t r = begin; r < end; r++) {
    double sum;
    const float max = row_max_sum(job->x + r * job->cols, job->cols, &sum);
    job->out[r] = logf((float)sum) + max;
  }
}

// out[r, j] = softmax(x[r])[j] · dy[r], as exp(x − max) · (dy / Σ exp(x − max)); recomputing the
// exponentials costs less than keeping a [rows, vocab] buffer of them from the forward pass.
static void softmax_scale_part(void *arg, int64_t begin, int64_t end) {
  const RowsJob *job = arg;
  for (int64_t r = begin; r < end; r++) {
    const float *x = job->x + r * job->cols;
    float *o = job->out + r * job->cols;
    double sum;
    const float max = row_max_sum(x, job->cols, &sum);
    const float scale = job->dy[r] / (float)sum;
    for (int64_t j = 0; j < job->cols; j++) o[j] = expf(x[j] - max) * scale;
  }
}

static bool whole_rows(const View *x, int64_t cols) { return cols > 0 && x->length % (size_t)cols == 0; }

// logSumExpRows(x, out, cols): out has one entry per row of x.
DECLARE_ENTRY(logsumexp_rows) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "logSumExpRows")) return NULL;
  View xv, ov;
  int64_t cols;
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, &xv, "logSumExpRows: x must be a Float32Array") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &ov, "logSumExpRows: out must be a Float32Array") ||
      !arg_int(env, argv[2], &cols, "logSumExpRows: cols must be a positive integer"))
    return NULL;
  if (!whole_rows(&xv, cols) || ov.length * (size_t)cols != xv.length)
    return throw_type_error(env, "logSumExpRows: x must hold out.length rows of cols elements");
  RowsJob job = {xv.data, NULL, ov.data, cols};
  parallel_for((int64_t)ov.length, (int64_t)xv.length, logsumexp_part, &job);
  return NULL;
}

// softmaxScaleRows(x, dy, out, cols): dy has one entry per row of x.
DECLARE_ENTRY(softmax_scale_rows) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv, "softmaxScaleRows")) return NULL;
  View xv, dv, ov;
  int64_t cols;
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, &xv, "softmaxScaleRows: x must be a Float32Array") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &dv, "softmaxScaleRows: dy must be a Float32Array") ||
      !arg_typed_of(env, argv[2], napi_float32_array, false, &ov, "softmaxScaleRows: out must be a Float32Array") ||
      !arg_int(env, argv[3], &cols, "softmaxScaleRows: cols must be a positive integer"))
    return NULL;
  if (!whole_rows(&xv, cols) || ov.length != xv.length || dv.length * (size_t)cols != xv.length)
    return throw_type_error(env, "softmaxScaleRows: x and out must hold dy.length rows of cols elements");
  RowsJob job = {xv.data, dv.data, ov.data, cols};
  parallel_for((int64_t)dv.length, (int64_t)xv.length, softmax_scale_part, &job);
  return NULL;
}
