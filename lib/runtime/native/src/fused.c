// The element-wise chains of a decoder layer, each direction one threaded pass: RMSNorm, the
// SwiGLU gate and rotate-half RoPE. Composed from tfjs ops they ran 3–6 kernels each, every one a
// full read and write of a [tokens, width] buffer (≈30 % of a saliency pass's CPU time at 0.5B).
// Each computes exactly the float32 operations of the composition it replaces, in the same order
// (sums in double, as the Mean kernel does), so results are bit-identical to it.
#include <math.h>
#include <stdlib.h>
#include "args.h"
#include "parallel.h"

typedef struct {
  const float *x, *w, *r, *dy, *cos, *sin, *u;
  float *out, *out2;
  int64_t cols;
  float eps;
} FusedJob;

// --- RMSNorm: out = (x·r)·w with r = 1/√(mean(x²) + eps), r kept per row for the gradient.
static void rms_norm_part(void *arg, int64_t begin, int64_t end) {
  const FusedJob *job = arg;
  const int64_t cols = job->cols;
  for (int64_t row = begin; row < end; row++) {
    const float *x = job->x + row * cols;
    float *o = job->out + row * cols;
    double sum = 0;
    for (int64_t j = 0; j < cols; j++) sum += (float)(x[j] * x[j]);
    const float mean = (float)(sum / (double)cols);
    const float r = 1.0f / sqrtf(mean + job->eps);
    job->out2[row] = r;
    for (int64_t j = 0; j < cols; j++) o[j] = (float)(x[j] * r) * job->w[j];
  }
}

// dx = (g − xr·mean(g·xr))·r with g = dy·w, xr = x·r.
static void rms_norm_dx_part(void *arg, int64_t begin, int64_t end) {
  const FusedJob *job = arg;
  const int64_t cols = job->cols;
  for (int64_t row = begin; row < end; row++) {
    const float *x = job->x + row * cols, *dy = job->dy + row * cols;
    float *dx = job->out + row * cols;
    const float r = job->r[row];
    double sum = 0;
    for (int64_t j = 0; j < cols; j++) sum += (float)((float)(dy[j] * job->w[j]) * (float)(x[j] * r));
    const float mean = (float)(sum / (double)cols);
    for (int64_t j = 0; j < cols; j++) {
      const float g = dy[j] * job->w[j], xr = x[j] * r;
      dx[j] = (float)(g - (float)(xr * mean)) * r;
    }
  }
}

// dw[j] = Σ_rows dy·xr, by columns so that each sum runs in row order whatever the thread count.
typedef struct {
  const FusedJob *job;
  int64_t rows;
  double *acc;  // one zeroed accumulator per column
} ColumnJob;

static void rms_norm_dw_part(void *arg, int64_t begin, int64_t end) {
  const ColumnJob *cj = arg;
  const FusedJob *job = cj->job;
  const int64_t cols = job->cols, width = end - begin;
  double *acc = cj->acc + begin;
  for (int64_t row = 0; row < cj->rows; row++) {
    const float *x = job->x + row * cols + begin, *dy = job->dy + row * cols + begin;
    const float r = job->r[row];
    for (int64_t j = 0; j < width; j++) acc[j] += (float)(dy[j] * (float)(x[j] * r));
  }
  for (int64_t j = 0; j < width; j++) job->out2[begin + j] = (float)acc[j];
}

// --- SwiGLU gate: out = (g·σ(g))·u; d g = (dy·u)·(s + a − a·s), d u = dy·a with s = σ(g), a = g·s.
static void silu_gate_part(void *arg, int64_t begin, int64_t end) {
  const FusedJob *job = arg;
  const float *g = job->x, *u = job->u;
  for (int64_t i = begin; i < end; i++) {
    const float s = 1.0f / (1.0f + expf(-g[i]));
    job->out[i] = (float)(g[i] * s) * u[i];
  }
}

static void silu_gate_grad_part(void *arg, int64_t begin, int64_t end) {
  const FusedJob *job = arg;
  const float *g = job->x, *u = job->u, *dy = job->dy;
  for (int64_t i = begin; i < end; i++) {
    const float s = 1.0f / (1.0f + expf(-g[i]));
    const float a = g[i] * s;
    const float slope = (float)(s + a) - (float)(a * s);
    job->out[i] = (float)(dy[i] * u[i]) * slope;
    job->out2[i] = dy[i] * a;
  }
}

// --- RoPE on rows of heads·d: out = x·cos + rotate_half(x)·sin, rotate_half(x) = (−x₂, x₁) per head;
// its gradient dx = dy·cos + rotate_halfᵀ(dy·sin), rotate_halfᵀ(v) = (v₂, −v₁).
static void rope_part(void *arg, int64_t begin, int64_t end) {
  const FusedJob *job = arg;
  const int64_t d = job->cols, h = d / 2;
  for (int64_t head = begin; head < end; head++) {
    const int64_t o = head * d;
    const float *x = job->x + o, *c = job->cos + o, *s = job->sin + o;
    float *out = job->out + o;
    for (int64_t j = 0; j < h; j++) out[j] = (float)(x[j] * c[j]) + (float)(-x[j + h] * s[j]);
    for (int64_t j = h; j < d; j++) out[j] = (float)(x[j] * c[j]) + (float)(x[j - h] * s[j]);
  }
}

static void rope_grad_part(void *arg, int64_t begin, int64_t end) {
  const FusedJob *job = arg;
  const int64_t d = job->cols, h = d / 2;
  for (int64_t head = begin; head < end; head++) {
    const int64_t o = head * d;
    const float *dy = job->dy + o, *c = job->cos + o, *s = job->sin + o;
    float *dx = job->out + o;
    for (int64_t j = 0; j < h; j++) dx[j] = (float)(dy[j] * c[j]) + (float)(dy[j + h] * s[j + h]);
    for (int64_t j = h; j < d; j++) dx[j] = (float)(dy[j] * c[j]) + -(float)(dy[j - h] * s[j - h]);
  }
}

#define FLOATS(i, view, name) arg_typed_of(env, argv[i], napi_float32_array, false, &view, name " must be a Float32Array")

// rmsNorm(x, w, eps, out, r): x and out [rows, w.length], r [rows].
DECLARE_ENTRY(rms_norm) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "rmsNorm")) return NULL;
  View x, w, out, r;
  double eps;
  if (!FLOATS(0, x, "rmsNorm: x") || !FLOATS(1, w, "rmsNorm: w") || !arg_double(env, argv[2], &eps, "rmsNorm: eps must be a number") ||
      !FLOATS(3, out, "rmsNorm: out") || !FLOATS(4, r, "rmsNorm: r"))
    return NULL;
  if (w.length == 0 || x.length != r.length * w.length || out.length != x.length)
    return throw_type_error(env, "rmsNorm: x and out must hold r.length rows of w.length elements");
  FusedJob job = {.x = x.data, .w = w.data, .out = out.data, .out2 = r.data, .cols = (int64_t)w.length, .eps = (float)eps};
  parallel_for((int64_t)r.length, (int64_t)x.length, rms_norm_part, &job);
  return NULL;
}

// rmsNormGrad(dy, x, w, r, dx, dw): dy, x, dx [rows, w.length]; r [rows] from rmsNorm; dw [w.length].
DECLARE_ENTRY(rms_norm_grad) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv, "rmsNormGrad")) return NULL;
  View dy, x, w, r, dx, dw;
  if (!FLOATS(0, dy, "rmsNormGrad: dy") || !FLOATS(1, x, "rmsNormGrad: x") || !FLOATS(2, w, "rmsNormGrad: w") ||
      !FLOATS(3, r, "rmsNormGrad: r") || !FLOATS(4, dx, "rmsNormGrad: dx") || !FLOATS(5, dw, "rmsNormGrad: dw"))
    return NULL;
  if (w.length == 0 || x.length != r.length * w.length || dy.length != x.length || dx.length != x.length || dw.length != w.length)
    return throw_type_error(env, "rmsNormGrad: dy, x and dx must hold r.length rows of w.length elements, dw w.length");
  double *acc = calloc(w.length, sizeof(double));
  if (!acc) return throw_type_error(env, "rmsNormGrad: out of memory for the weight gradient's sums");
  FusedJob job = {.x = x.data, .w = w.data, .r = r.data, .dy = dy.data, .out = dx.data, .out2 = dw.data, .cols = (int64_t)w.length};
  parallel_for((int64_t)r.length, (int64_t)x.length, rms_norm_dx_part, &job);
  ColumnJob columns = {&job, (int64_t)r.length, acc};
  parallel_for((int64_t)w.length, (int64_t)x.length, rms_norm_dw_part, &columns);
  free(acc);
  return NULL;
}

// siluGate(g, u, out), all of one length.
DECLARE_ENTRY(silu_gate) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "siluGate")) return NULL;
  View g, u, out;
  if (!FLOATS(0, g, "siluGate: g") || !FLOATS(1, u, "siluGate: u") || !FLOATS(2, out, "siluGate: out")) return NULL;
  if (u.length != g.length || out.length != g.length) return throw_type_error(env, "siluGate: g, u and out differ in length");
  FusedJob job = {.x = g.data, .u = u.data, .out = out.data};
  parallel_for((int64_t)g.length, (int64_t)g.length, silu_gate_part, &job);
  return NULL;
}

// siluGateGrad(dy, g, u, dg, du), all of one length.
DECLARE_ENTRY(silu_gate_grad) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "siluGateGrad")) return NULL;
  View dy, g, u, dg, du;
  if (!FLOATS(0, dy, "siluGateGrad: dy") || !FLOATS(1, g, "siluGateGrad: g") || !FLOATS(2, u, "siluGateGrad: u") ||
      !FLOATS(3, dg, "siluGateGrad: dg") || !FLOATS(4, du, "siluGateGrad: du"))
    return NULL;
  if (g.length != dy.length || u.length != dy.length || dg.length != dy.length || du.length != dy.length)
    return throw_type_error(env, "siluGateGrad: dy, g, u, dg and du differ in length");
  FusedJob job = {.x = g.data, .u = u.data, .dy = dy.data, .out = dg.data, .out2 = du.data};
  parallel_for((int64_t)dy.length, 2 * (int64_t)dy.length, silu_gate_grad_part, &job);
  return NULL;
}

static bool rope_args(napi_env env, napi_value *argv, const char *name, View *x, View *c, View *s, int64_t *d, View *out) {
  char what[5][64];
  const char *parts[5] = {"x", "cos", "sin", "headDim", "out"};
  for (int i = 0; i < 5; i++) snprintf(what[i], sizeof what[i], "%s: %s must be %s", name, parts[i], i == 3 ? "a positive even integer" : "a Float32Array");
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, x, what[0]) || !arg_typed_of(env, argv[1], napi_float32_array, false, c, what[1]) ||
      !arg_typed_of(env, argv[2], napi_float32_array, false, s, what[2]) || !arg_int(env, argv[3], d, what[3]) ||
      !arg_typed_of(env, argv[4], napi_float32_array, false, out, what[4]))
    return false;
  if (*d == 0 || *d % 2 || x->length % (size_t)*d) {
    throw_type_error(env, what[3]);
    return false;
  }
  if (c->length != x->length || s->length != x->length || out->length != x->length) {
    snprintf(what[0], sizeof what[0], "%s: x, cos, sin and out differ in length", name);
    throw_type_error(env, what[0]);
    return false;
  }
  return true;
}

// rope(x, cos, sin, headDim, out) and ropeGrad(dy, cos, sin, headDim, dx): the input holds whole
// heads of headDim; cos and sin are per element. Each part reads its own field of the job (x or dy).
static napi_value rope_entry(napi_env env, napi_callback_info info, const char *name, range_fn part) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, name)) return NULL;
  View in, c, s, out;
  int64_t d;
  if (!rope_args(env, argv, name, &in, &c, &s, &d, &out)) return NULL;
  FusedJob job = {.x = in.data, .dy = in.data, .cos = c.data, .sin = s.data, .out = out.data, .cols = d};
  parallel_for((int64_t)(in.length / (size_t)d), (int64_t)in.length, part, &job);
  return NULL;
}

DECLARE_ENTRY(rope) { return rope_entry(env, info, "rope", rope_part); }

DECLARE_ENTRY(rope_grad) { return rope_entry(env, info, "ropeGrad", rope_grad_part); }

// --- Attention softmax with an additive bias shared by the heads: y = softmax(scores + bias) over
// rows of scores [B, H, T, Tk], bias [B, 1, T, Tk]; gradient dx = dy·y − Σ(dy·y)·y per row, as
// tfjs's Softmax gradient computes it.
typedef struct {
  const float *x, *bias, *y, *dy;
  float *out;
  int64_t cols, heads, length;
} SoftmaxJob;

static void masked_softmax_part(void *arg, int64_t begin, int64_t end) {
  const SoftmaxJob *job = arg;
  const int64_t cols = job->cols;
  for (int64_t row = begin; row < end; row++) {
    const int64_t sample = row / (job->heads * job->length), t = row % job->length;
    const float *x = job->x + row * cols, *b = job->bias + (sample * job->length + t) * cols;
    float *o = job->out + row * cols;
    for (int64_t j = 0; j < cols; j++) o[j] = x[j] + b[j];
    float max = o[0];
    for (int64_t j = 1; j < cols; j++) max = o[j] > max ? o[j] : max;
    double sum = 0;
    for (int64_t j = 0; j < cols; j++) {
      o[j] = expf(o[j] - max);
      sum += o[j];
    }
    const float total = (float)sum;
    for (int64_t j = 0; j < cols; j++) o[j] /= total;
  }
}

static void softmax_grad_part(void *arg, int64_t begin, int64_t end) {
  const SoftmaxJob *job = arg;
  const int64_t cols = job->cols;
  for (int64_t row = begin; row < end; row++) {
    const float *y = job->y + row * cols, *dy = job->dy + row * cols;
    float *dx = job->out + row * cols;
    double sum = 0;
    for (int64_t j = 0; j < cols; j++) sum += (float)(dy[j] * y[j]);
    const float s = (float)sum;
    for (int64_t j = 0; j < cols; j++) dx[j] = (float)(dy[j] * y[j]) - (float)(s * y[j]);
  }
}

// maskedSoftmax(scores, bias, heads, length, cols, out): scores and out [B, heads, length, cols], bias [B, 1, length, cols].
DECLARE_ENTRY(masked_softmax) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv, "maskedSoftmax")) return NULL;
  View x, bias, out;
  int64_t heads, length, cols;
  if (!FLOATS(0, x, "maskedSoftmax: scores") || !FLOATS(1, bias, "maskedSoftmax: bias") ||
      !arg_int(env, argv[2], &heads, "maskedSoftmax: heads must be a positive integer") ||
      !arg_int(env, argv[3], &length, "maskedSoftmax: length must be a positive integer") ||
      !arg_int(env, argv[4], &cols, "maskedSoftmax: cols must be a positive integer") || !FLOATS(5, out, "maskedSoftmax: out"))
    return NULL;
  if (!heads || !length || !cols || x.length % (size_t)(heads * length * cols) || bias.length * (size_t)heads != x.length || out.length != x.length)
    return throw_type_error(env, "maskedSoftmax: scores and out must be [B, heads, length, cols] and bias [B, 1, length, cols]");
  SoftmaxJob job = {.x = x.data, .bias = bias.data, .out = out.data, .cols = cols, .heads = heads, .length = length};
  parallel_for((int64_t)(x.length / (size_t)cols), (int64_t)x.length, masked_softmax_part, &job);
  return NULL;
}

// softmaxGrad(y, dy, cols, dx): rows of cols elements.
DECLARE_ENTRY(softmax_grad) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv, "softmaxGrad")) return NULL;
  View y, dy, dx;
  int64_t cols;
  if (!FLOATS(0, y, "softmaxGrad: y") || !FLOATS(1, dy, "softmaxGrad: dy") ||
      !arg_int(env, argv[2], &cols, "softmaxGrad: cols must be a positive integer") || !FLOATS(3, dx, "softmaxGrad: dx"))
    return NULL;
  if (!cols || y.length % (size_t)cols || dy.length != y.length || dx.length != y.length)
    return throw_type_error(env, "softmaxGrad: y, dy and dx must hold the same whole rows of cols elements");
  SoftmaxJob job = {.y = y.data, .dy = dy.data, .out = dx.data, .cols = cols};
  parallel_for((int64_t)(y.length / (size_t)cols), (int64_t)y.length, softmax_grad_part, &job);
  return NULL;
}
