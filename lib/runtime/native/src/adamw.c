// One AdamW update of a parameter, in place and split over the cores. The arithmetic is
// lib/distill/optim/adamw.ts's JavaScript loop operation for operation, in double with float32
// storage of moments and weights, so both paths give bit-identical weights.
#include <math.h>
#include "args.h"
#include "parallel.h"

typedef struct {
  float *w, *m, *v;
  const float *g;
  double scale, beta1, beta2, step_size, correction2_sqrt, epsilon, decay;
} AdamJob;

static void adamw_part(void *arg, int64_t begin, int64_t end) {
  const AdamJob *job = arg;
  for (int64_t i = begin; i < end; i++) {
    // A scaled gradient is rounded to float32, as the JavaScript loop's Math.fround does.
    const double gi = job->scale == 1 ? (double)job->g[i] : (double)(float)((double)job->g[i] * job->scale);
    const double mi = job->beta1 * (double)job->m[i] + (1 - job->beta1) * gi;
    const double vi = job->beta2 * (double)job->v[i] + (1 - job->beta2) * gi * gi;
    job->m[i] = (float)mi;
    job->v[i] = (float)vi;
    job->w[i] = (float)((double)job->w[i] * job->decay - (job->step_size * mi) / (sqrt(vi) / job->correction2_sqrt + job->epsilon));
  }
}

// adamwStep(w, g, m, v, [scale, beta1, beta2, stepSize, correction2Sqrt, epsilon, decay]): w, m and v updated in place.
DECLARE_ENTRY(adamw_step) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "adamwStep")) return NULL;
  View w, g, m, v, h;
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, &w, "adamwStep: w must be a Float32Array") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &g, "adamwStep: g must be a Float32Array") ||
      !arg_typed_of(env, argv[2], napi_float32_array, false, &m, "adamwStep: m must be a Float32Array") ||
      !arg_typed_of(env, argv[3], napi_float32_array, false, &v, "adamwStep: v must be a Float32Array") ||
      !arg_typed_of(env, argv[4], napi_float64_array, false, &h, "adamwStep: hyper must be a Float64Array"))
    return NULL;
  if (g.length != w.length || m.length != w.length || v.length != w.length) return throw_type_error(env, "adamwStep: w, g, m and v differ in length");
  if (h.length != 7) return throw_type_error(env, "adamwStep: hyper must hold scale, beta1, beta2, stepSize, correction2Sqrt, epsilon, decay");
  const double *p = h.data;
  AdamJob job = {w.data, m.data, v.data, g.data, p[0], p[1], p[2], p[3], p[4], p[5], p[6]};
  parallel_for((int64_t)w.length, (int64_t)w.length, adamw_part, &job);
  return NULL;
}
