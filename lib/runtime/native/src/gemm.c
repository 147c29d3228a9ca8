// Matrix products through OpenBLAS, and the bias + activation epilogue of a fused matmul.
#include <cblas.h>
#include <math.h>
#include <string.h>
#include "args.h"
#include "gemm.h"

// Below this many multiply-adds a GEMM runs on one thread: handing work to a second OpenBLAS thread
// did not pay up to 256³ even on an idle core here, and on a shared machine a descheduled worker
// stalls the whole call (measured: 4× slower small-model passes with 2 threads under load).
#define THREADED_GEMM_MIN_WORK (1LL << 24)

static int max_threads = 0;  // 0 until first read from OpenBLAS

int gemm_max_threads(void) {
  if (max_threads == 0) max_threads = openblas_get_num_threads();
  return max_threads;
}

void gemm_set_max_threads(int threads) {
  max_threads = threads;
  openblas_set_num_threads(threads);
}

static void use_threads_for(int64_t work) {
  const int want = work >= THREADED_GEMM_MIN_WORK ? gemm_max_threads() : 1;
  if (openblas_get_num_threads() != want) openblas_set_num_threads(want);
}

// sgemmBatched(a, b, c, m, n, k, transposeA, transposeB, aIndex, bIndex)
// For each output matrix i: c[i] = op(a[aIndex[i]]) · op(b[bIndex[i]]), row-major, where a holds
// m×k matrices (k×m when transposed) and b holds k×n matrices (n×k when transposed). The index
// arrays express batch broadcasting without materialising repeated operands.
DECLARE_ENTRY(sgemm_batched) {
  napi_value argv[10];
  if (!get_args(env, info, 10, argv, "sgemmBatched")) return NULL;
  View a, b, c, a_index, b_index;
  int64_t m, n, k;
  bool trans_a, trans_b;
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, &a, "sgemmBatched: a must be a Float32Array") ||
      !arg_typed_of(env, argv[1], napi_float32_array, false, &b, "sgemmBatched: b must be a Float32Array") ||
      !arg_typed_of(env, argv[2], napi_float32_array, false, &c, "sgemmBatched: c must be a Float32Array") ||
      !arg_int(env, argv[3], &m, "sgemmBatched: m must be a non-negative integer") ||
      !arg_int(env, argv[4], &n, "sgemmBatched: n must be a non-negative integer") ||
      !arg_int(env, argv[5], &k, "sgemmBatched: k must be a non-negative integer") ||
      !arg_bool(env, argv[6], &trans_a, "sgemmBatched: transposeA must be a boolean") ||
      !arg_bool(env, argv[7], &trans_b, "sgemmBatched: transposeB must be a boolean") ||
      !arg_typed_of(env, argv[8], napi_int32_array, false, &a_index, "sgemmBatched: aIndex must be an Int32Array") ||
      !arg_typed_of(env, argv[9], napi_int32_array, false, &b_index, "sgemmBatched: bIndex must be an Int32Array"))
    return NULL;
  const size_t batch = a_index.length;
  if (b_index.length != batch) return throw_type_error(env, "sgemmBatched: aIndex and bIndex differ in length");
  const size_t a_size = (size_t)(m * k), b_size = (size_t)(k * n), c_size = (size_t)(m * n);
  if (c.length < batch * c_size) return throw_type_error(env, "sgemmBatched: c is too small for the output");
  const int32_t *ai = a_index.data, *bi = b_index.data;
  for (size_t i = 0; i < batch; i++) {
    if (ai[i] < 0 || (size_t)(ai[i] + 1) * a_size > a.length) return throw_type_error(env, "sgemmBatched: aIndex out of range");
    if (bi[i] < 0 || (size_t)(bi[i] + 1) * b_size > b.length) return throw_type_error(env, "sgemmBatched: bIndex out of range");
  }
  const float *pa = a.data, *pb = b.data;
  float *pc = c.data;
  if (k == 0) {
    memset(pc, 0, batch * c_size * sizeof(float));
    return NULL;
  }
  if (m == 0 || n == 0) return NULL;
  const int lda = (int)(trans_a ? m : k), ldb = (int)(trans_b ? k : n);
  use_threads_for(m * n * k);
  for (size_t i = 0; i < batch; i++)
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, 1.0f, pa + (size_t)ai[i] * a_size, lda, pb + (size_t)bi[i] * b_size, ldb, 0.0f, pc + i * c_size,
                (int)n);
  return NULL;
}

// Activation codes shared with lib/runtime/native/addon.ts; definitions match tfjs's cpu kernels
// (Relu, Relu6, Elu, LeakyRelu, Prelu, Sigmoid) exactly.
enum { ACT_LINEAR, ACT_RELU, ACT_RELU6, ACT_ELU, ACT_LEAKYRELU, ACT_PRELU, ACT_SIGMOID, ACT_COUNT };

// epilogue(c, bias, activation, leakyAlpha, preluAlpha)
// In place: c[i] = act(c[i] + bias[i % bias.length]). bias and preluAlpha may be null; both repeat
// with their own period, which is how an operand shaped like a suffix of the output broadcasts.
DECLARE_ENTRY(epilogue) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "epilogue")) return NULL;
  View c, bias, prelu;
  int64_t activation;
  double leaky_alpha;
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, &c, "epilogue: c must be a Float32Array") ||
      !arg_typed_of(env, argv[1], napi_float32_array, true, &bias, "epilogue: bias must be a Float32Array or null") ||
      !arg_int(env, argv[2], &activation, "epilogue: activation must be an activation code") ||
      !arg_double(env, argv[3], &leaky_alpha, "epilogue: leakyAlpha must be a number") ||
      !arg_typed_of(env, argv[4], napi_float32_array, true, &prelu, "epilogue: preluAlpha must be a Float32Array or null"))
    return NULL;
  if (activation >= ACT_COUNT) return throw_type_error(env, "epilogue: unknown activation code");
  if (activation == ACT_PRELU && prelu.length == 0) return throw_type_error(env, "epilogue: prelu needs preluAlpha");
  if ((bias.data && (bias.length == 0 || c.length % bias.length)) || (activation == ACT_PRELU && c.length % prelu.length))
    return throw_type_error(env, "epilogue: bias/preluAlpha length must divide the output length");

  float *pc = c.data;
  const size_t total = c.length;
  if (bias.data) {
    const float *pb = bias.data;
    const size_t period = bias.length;
    for (size_t start = 0; start < total; start += period)
      for (size_t j = 0; j < period; j++) pc[start + j] += pb[j];
  }
  const float alpha = (float)leaky_alpha;
  switch (activation) {
    case ACT_RELU:
      for (size_t i = 0; i < total; i++) pc[i] = pc[i] < 0 ? 0.0f : pc[i];
      break;
    case ACT_RELU6:
      for (size_t i = 0; i < total; i++) pc[i] = pc[i] < 0 ? 0.0f : (pc[i] > 6.0f ? 6.0f : pc[i]);
      break;
    case ACT_ELU:
      for (size_t i = 0; i < total; i++) pc[i] = pc[i] >= 0 ? pc[i] : expm1f(pc[i]);
      break;
    case ACT_LEAKYRELU:
      for (size_t i = 0; i < total; i++) pc[i] = pc[i] < 0 ? alpha * pc[i] : pc[i];
      break;
    case ACT_PRELU: {
      const float *pa = prelu.data;
      const size_t period = prelu.length;
      for (size_t start = 0; start < total; start += period)
        for (size_t j = 0; j < period; j++) {
          const float v = pc[start + j];
          pc[start + j] = v < 0 ? pa[j] * v : v;
        }
      break;
    }
    case ACT_SIGMOID:
      for (size_t i = 0; i < total; i++) pc[i] = 1.0f / (1.0f + expf(-pc[i]));
      break;
    default:
      break;
  }
  return NULL;
}
