// leaf's native kernels for tfjs, exposed through plain Node-API. Every entry point works in place
// on typed arrays owned by JavaScript (the tfjs cpu backend's own buffers): no tensor data is
// copied on the way in or out.
#include <cblas.h>
#include "args.h"
#include "gemm.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

DECLARE_ENTRY(sgemm_batched);
DECLARE_ENTRY(epilogue);
DECLARE_ENTRY(binary);
DECLARE_ENTRY(unary);
DECLARE_ENTRY(softmax);
DECLARE_ENTRY(reduce);
DECLARE_ENTRY(copy_strided);
DECLARE_ENTRY(gather);
DECLARE_ENTRY(logsumexp_rows);
DECLARE_ENTRY(softmax_scale_rows);
DECLARE_ENTRY(map_ranges);
DECLARE_ENTRY(drop_pages);
DECLARE_ENTRY(half_gemm);
DECLARE_ENTRY(widen_rows);
DECLARE_ENTRY(rms_norm);
DECLARE_ENTRY(rms_norm_grad);
DECLARE_ENTRY(silu_gate);
DECLARE_ENTRY(silu_gate_grad);
DECLARE_ENTRY(rope);
DECLARE_ENTRY(rope_grad);
DECLARE_ENTRY(masked_softmax);
DECLARE_ENTRY(softmax_grad);
DECLARE_ENTRY(adamw_step);

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, NULL, "leaf native: Node-API call failed: " #call); \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

// info() → { config, corename, threads, processors }
static napi_value blas_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, value;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &value));
  CHECK(napi_set_named_property(env, result, "config", value));
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &value));
  CHECK(napi_set_named_property(env, result, "corename", value));
  CHECK(napi_create_int32(env, gemm_max_threads(), &value));
  CHECK(napi_set_named_property(env, result, "threads", value));
  CHECK(napi_create_int32(env, openblas_get_num_procs(), &value));
  CHECK(napi_set_named_property(env, result, "processors", value));
  return result;
}

// setThreads(n): the most OpenBLAS threads a large GEMM may use.
static napi_value set_threads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t threads;
  if (!get_args(env, info, 1, argv, "setThreads") || !arg_int(env, argv[0], &threads, "setThreads: expects a positive integer"))
    return NULL;
  if (threads < 1) return throw_type_error(env, "setThreads: expects a positive integer");
  gemm_set_max_threads((int)threads);
  return NULL;
}

// retainFreedMemory() → whether the allocator was tuned.
// tfjs allocates a fresh typed array for every kernel output. With glibc's defaults, large blocks
// are mmap'd and unmapped on free, so every output pays first-touch page faults (measured here:
// ~120 ms for 16 MB on a virtual machine, 15× the kernel's own time). Keeping freed memory in the
// heap lets later outputs reuse pages that are already mapped; the cost is that the process does
// not hand memory back to the OS before it exits. Trimming is off altogether (-1): with a 1 GB
// threshold a training step, whose gradients free more than that at the heap's top, gave its pages
// back and faulted them in again every step (measured at 0.5B shapes: 538k faults and 11.8 CPU-s
// per step, against 10k faults and 4.3 CPU-s untrimmed, same peak RSS).
static napi_value retain_freed_memory(napi_env env, napi_callback_info info) {
  (void)info;
  bool tuned = false;
#ifdef __GLIBC__
  tuned = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, -1) == 1;
#endif
  napi_value result;
  CHECK(napi_get_boolean(env, tuned, &result));
  return result;
}

// retainedFreeBytes() → bytes the allocator holds free for this process to reuse (glibc mallinfo2),
// 0 elsewhere. With trimming off they never show in MemAvailable, yet a later allocation reuses
// them: the pre-flight memory estimate counts them as available.
static napi_value retained_free_bytes(napi_env env, napi_callback_info info) {
  (void)info;
  double bytes = 0;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  bytes = (double)mallinfo2().fordblks;
#endif
  napi_value result;
  CHECK(napi_create_double(env, bytes, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"sgemmBatched", NULL, sgemm_batched, NULL, NULL, NULL, napi_default, NULL},
      {"epilogue", NULL, epilogue, NULL, NULL, NULL, napi_default, NULL},
      {"binary", NULL, binary, NULL, NULL, NULL, napi_default, NULL},
      {"unary", NULL, unary, NULL, NULL, NULL, napi_default, NULL},
      {"softmax", NULL, softmax, NULL, NULL, NULL, napi_default, NULL},
      {"reduce", NULL, reduce, NULL, NULL, NULL, napi_default, NULL},
      {"copyStrided", NULL, copy_strided, NULL, NULL, NULL, napi_default, NULL},
      {"gather", NULL, gather, NULL, NULL, NULL, napi_default, NULL},
      {"logSumExpRows", NULL, logsumexp_rows, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxScaleRows", NULL, softmax_scale_rows, NULL, NULL, NULL, napi_default, NULL},
      {"mapRanges", NULL, map_ranges, NULL, NULL, NULL, napi_default, NULL},
      {"dropPages", NULL, drop_pages, NULL, NULL, NULL, napi_default, NULL},
      {"halfGemm", NULL, half_gemm, NULL, NULL, NULL, napi_default, NULL},
      {"widenRows", NULL, widen_rows, NULL, NULL, NULL, napi_default, NULL},
      {"rmsNorm", NULL, rms_norm, NULL, NULL, NULL, napi_default, NULL},
      {"rmsNormGrad", NULL, rms_norm_grad, NULL, NULL, NULL, napi_default, NULL},
      {"siluGate", NULL, silu_gate, NULL, NULL, NULL, napi_default, NULL},
      {"siluGateGrad", NULL, silu_gate_grad, NULL, NULL, NULL, napi_default, NULL},
      {"rope", NULL, rope, NULL, NULL, NULL, napi_default, NULL},
      {"ropeGrad", NULL, rope_grad, NULL, NULL, NULL, napi_default, NULL},
      {"maskedSoftmax", NULL, masked_softmax, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxGrad", NULL, softmax_grad, NULL, NULL, NULL, napi_default, NULL},
      {"adamwStep", NULL, adamw_step, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, blas_info, NULL, NULL, NULL, napi_default, NULL},
      {"retainFreedMemory", NULL, retain_freed_memory, NULL, NULL, NULL, napi_default, NULL},
      {"retainedFreeBytes", NULL, retained_free_bytes, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
