// Weights held in their stored 16-bit dtype (BF16 or F16): memory-mapped checkpoint tensors and a
// GEMM that widens them to float32 one panel of rows at a time, so a model is never copied to
// float32 as a whole. Products accumulate in float32 (OpenBLAS sgemm on the widened panel).
// madvise and MADV_DONTNEED are outside strict C11.
#define _DEFAULT_SOURCE
#include <cblas.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "args.h"
#include "gemm.h"
#include "parallel.h"

// Widened panel size: at most 4M floats (16 MB) amortises the sgemm call and the re-read of the
// other operand per panel, and keeps the float32 copy of a weight small next to the weight.
#define PANEL_ELEMENTS (4 << 20)

// The panel buffer is kept between calls: a fresh 16 MB allocation is a fresh mmap whose pages
// fault in (and are zeroed) on every product. One per thread, so concurrent callers (worker
// threads with their own Node environment) never share one.
static _Thread_local float *panel_buffer = NULL;
static _Thread_local size_t panel_capacity = 0;

static void free_panel(void *unused) {
  (void)unused;
  free(panel_buffer);
  panel_buffer = NULL;
  panel_capacity = 0;
}

static float *panel_of(napi_env env, size_t elements) {
  if (elements <= panel_capacity) return panel_buffer;
  if (!panel_buffer) napi_add_env_cleanup_hook(env, free_panel, NULL);
  float *grown = realloc(panel_buffer, elements * sizeof(float));
  if (!grown) return NULL;
  panel_buffer = grown;
  panel_capacity = elements;
  return grown;
}

typedef struct {
  void *base;
  size_t size;
  size_t refs;
} Mapping;

static void release_mapping(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  Mapping *mapping = hint;
  if (--mapping->refs > 0) return;
  munmap(mapping->base, mapping->size);
  free(mapping);
}

// mapRanges(path, ranges) → ArrayBuffer[]: the file mapped once, copy-on-write (a stray write from
// JavaScript changes a private page, never the file, and cannot fault), one external ArrayBuffer
// per [start, end) byte range of `ranges` (a Float64Array of pairs). Untouched pages stay
// file-backed: the kernel can evict them under memory pressure and read them back on demand. The
// mapping goes when the last of its buffers is collected.
DECLARE_ENTRY(map_ranges) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv, "mapRanges")) return NULL;
  char path[4096];
  size_t path_length;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_length) != napi_ok || path_length >= sizeof path - 1)
    return throw_type_error(env, "mapRanges: path must be a string shorter than 4096 bytes");
  View ranges;
  if (!arg_typed_of(env, argv[1], napi_float64_array, false, &ranges, "mapRanges: ranges must be a Float64Array")) return NULL;
  if (ranges.length % 2 != 0) return throw_type_error(env, "mapRanges: ranges must hold [start, end) pairs");
  const int fd = open(path, O_RDONLY);
  if (fd < 0) {
    napi_throw_error(env, NULL, "mapRanges: cannot open the file");
    return NULL;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size == 0) {
    close(fd);
    napi_throw_error(env, NULL, "mapRanges: cannot stat the file, or it is empty");
    return NULL;
  }
  const size_t size = (size_t)st.st_size;
  const double *pairs = ranges.data;
  for (size_t i = 0; i < ranges.length; i += 2)
    if (!(pairs[i] >= 0 && pairs[i] < pairs[i + 1] && pairs[i + 1] <= (double)size)) {
      close(fd);
      return throw_type_error(env, "mapRanges: a range is empty or lies outside the file");
    }
  void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  close(fd);
  if (base == MAP_FAILED) {
    napi_throw_error(env, NULL, "mapRanges: mmap failed");
    return NULL;
  }
  // Start reading the ranges into the page cache now, in the background: the first product with
  // a weight then finds its pages cached instead of waiting on the disk one fault at a time.
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < ranges.length; i += 2) {
    const size_t start = (size_t)pairs[i] / page * page;
    madvise((char *)base + start, (size_t)pairs[i + 1] - start, MADV_WILLNEED);
  }
  Mapping *mapping = malloc(sizeof *mapping);
  mapping->base = base;
  mapping->size = size;
  mapping->refs = 1;  // held by this call until every buffer exists
  napi_value result;
  napi_create_array_with_length(env, ranges.length / 2, &result);
  for (size_t i = 0; i < ranges.length; i += 2) {
    napi_value buffer;
    mapping->refs++;
    if (napi_create_external_arraybuffer(env, (char *)base + (size_t)pairs[i], (size_t)(pairs[i + 1] - pairs[i]), release_mapping,
                                         mapping, &buffer) != napi_ok) {
      mapping->refs--;
      release_mapping(env, NULL, mapping);
      napi_throw_error(env, NULL, "mapRanges: this Node.js does not allow external ArrayBuffers");
      return NULL;
    }
    napi_set_element(env, result, (uint32_t)(i / 2), buffer);
  }
  release_mapping(env, NULL, mapping);
  return result;
}

// dropPages(view): hands the resident pages under a mapped buffer back to the kernel now (a later
// read faults them in again from the file), so an unloaded model stops counting in RSS before the
// garbage collector gets to its buffers.
DECLARE_ENTRY(drop_pages) {
  napi_value argv[1];
  View view;
  if (!get_args(env, info, 1, argv, "dropPages") || !arg_typed(env, argv[0], false, &view, "dropPages: expects a typed array"))
    return NULL;
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t bytes = view.length;
  if (view.type == napi_uint16_array || view.type == napi_int16_array) bytes *= 2;
  else if (view.type != napi_uint8_array && view.type != napi_int8_array) bytes *= 4;
  const uintptr_t start = ((uintptr_t)view.data + page - 1) / page * page;
  const uintptr_t end = ((uintptr_t)view.data + bytes) / page * page;
  if (end > start) madvise((void *)start, end - start, MADV_DONTNEED);
  return NULL;
}

static void widen_bf16(const uint16_t *in, float *out, size_t n) {
  uint32_t *bits = (uint32_t *)out;
  for (size_t i = 0; i < n; i++) bits[i] = (uint32_t)in[i] << 16;
}

static float f16_to_f32_scalar(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    const float value = (float)mantissa * (1.0f / 16777216.0f);  // subnormal or zero: m · 2^-24
    return sign ? -value : value;
  }
  if (exponent == 0x1f) bits = sign | 0x7f800000 | (mantissa << 13);
  else bits = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  float out;
  memcpy(&out, &bits, sizeof out);
  return out;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
__attribute__((target("avx,f16c"))) static void widen_f16_f16c(const uint16_t *in, float *out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(in + i))));
  for (; i < n; i++) out[i] = f16_to_f32_scalar(in[i]);
}
static int has_f16c(void) {
  static int known = -1;
  if (known < 0) known = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  return known;
}
#endif

static void widen_f16(const uint16_t *in, float *out, size_t n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (has_f16c()) {
    widen_f16_f16c(in, out, n);
    return;
  }
#endif
  for (size_t i = 0; i < n; i++) out[i] = f16_to_f32_scalar(in[i]);
}

static void widen(const uint16_t *in, float *out, size_t n, bool bf16) {
  if (bf16) widen_bf16(in, out, n);
  else widen_f16(in, out, n);
}

typedef struct {
  const uint16_t *in;
  float *out;
  bool bf16;
} WidenJob;

static void widen_range(void *ctx, int64_t begin, int64_t end) {
  const WidenJob *job = ctx;
  widen(job->in + begin, job->out + begin, (size_t)(end - begin), job->bf16);
}

// Widening is memory-bound; on one core it left the other idle between the (threaded) sgemm calls.
static void widen_parallel(const uint16_t *in, float *out, size_t n, bool bf16) {
  WidenJob job = {in, out, bf16};
  parallel_for((int64_t)n, (int64_t)n, widen_range, &job);
}

// halfGemm(a, m, k, w, wRows, wCols, transposeW, bf16, out)
// out[m×n] = a[m×k] · op(W), W a row-major wRows×wCols 16-bit matrix: op(W) = Wᵀ (W is n×k) when
// transposeW, else W (k×n). W is widened a panel of rows at a time. With transposeW each panel is
// a block of output columns; without, a block of the reduction dimension, accumulated into out.
DECLARE_ENTRY(half_gemm) {
  napi_value argv[9];
  if (!get_args(env, info, 9, argv, "halfGemm")) return NULL;
  View a, w, out;
  int64_t m, k, rows, cols;
  bool trans_w, bf16;
  if (!arg_typed_of(env, argv[0], napi_float32_array, false, &a, "halfGemm: a must be a Float32Array") ||
      !arg_int(env, argv[1], &m, "halfGemm: m must be a non-negative integer") ||
      !arg_int(env, argv[2], &k, "halfGemm: k must be a non-negative integer") ||
      !arg_typed_of(env, argv[3], napi_uint16_array, false, &w, "halfGemm: w must be a Uint16Array") ||
      !arg_int(env, argv[4], &rows, "halfGemm: wRows must be a non-negative integer") ||
      !arg_int(env, argv[5], &cols, "halfGemm: wCols must be a non-negative integer") ||
      !arg_bool(env, argv[6], &trans_w, "halfGemm: transposeW must be a boolean") ||
      !arg_bool(env, argv[7], &bf16, "halfGemm: bf16 must be a boolean") ||
      !arg_typed_of(env, argv[8], napi_float32_array, false, &out, "halfGemm: out must be a Float32Array"))
    return NULL;
  const int64_t n = trans_w ? rows : cols;
  if ((trans_w ? cols : rows) != k) return throw_type_error(env, "halfGemm: the inner dimensions of a and W differ");
  if (a.length < (size_t)(m * k) || w.length < (size_t)(rows * cols) || out.length < (size_t)(m * n))
    return throw_type_error(env, "halfGemm: an operand is smaller than its shape");
  float *c = out.data;
  if (k == 0 || m == 0 || n == 0) {
    memset(c, 0, (size_t)(m * n) * sizeof(float));
    return NULL;
  }
  // Panels of equal height: 4M + a few elements makes two halves, not a full panel and a sliver
  // (a thin last panel is a GEMM of a few columns, slow for its size).
  const int64_t panels = (rows * cols + PANEL_ELEMENTS - 1) / PANEL_ELEMENTS;
  const int64_t panel_rows = (rows + panels - 1) / panels;
  float *panel = panel_of(env, (size_t)(panel_rows * cols));
  if (!panel) {
    napi_throw_error(env, NULL, "halfGemm: out of memory for the widened panel");
    return NULL;
  }
  const int threads = m * n * k >= (1LL << 24) ? gemm_max_threads() : 1;
  if (openblas_get_num_threads() != threads) openblas_set_num_threads(threads);
  const float *pa = a.data;
  const uint16_t *pw = w.data;
  for (int64_t r0 = 0; r0 < rows; r0 += panel_rows) {
    const int64_t r = rows - r0 < panel_rows ? rows - r0 : panel_rows;
    widen_parallel(pw + r0 * cols, panel, (size_t)(r * cols), bf16);
    if (trans_w)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)r, (int)k, 1.0f, pa, (int)k, panel, (int)cols, 0.0f,
                  c + r0, (int)n);
    else
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)r, 1.0f, pa + r0, (int)k, panel, (int)cols,
                  r0 == 0 ? 0.0f : 1.0f, c, (int)n);
  }
  return NULL;
}

// widenRows(w, cols, bf16, rows, out): out[i, :] = float32(W[rows[i], :]) — embedding lookups and
// the LM-head rows of target tokens, without widening the whole table.
DECLARE_ENTRY(widen_rows) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "widenRows")) return NULL;
  View w, rows, out;
  int64_t cols;
  bool bf16;
  if (!arg_typed_of(env, argv[0], napi_uint16_array, false, &w, "widenRows: w must be a Uint16Array") ||
      !arg_int(env, argv[1], &cols, "widenRows: cols must be a positive integer") ||
      !arg_bool(env, argv[2], &bf16, "widenRows: bf16 must be a boolean") ||
      !arg_typed_of(env, argv[3], napi_int32_array, false, &rows, "widenRows: rows must be an Int32Array") ||
      !arg_typed_of(env, argv[4], napi_float32_array, false, &out, "widenRows: out must be a Float32Array"))
    return NULL;
  if (cols == 0 || w.length % (size_t)cols != 0) return throw_type_error(env, "widenRows: w's length is not a multiple of cols");
  if (out.length < rows.length * (size_t)cols) return throw_type_error(env, "widenRows: out is too small");
  const int32_t *index = rows.data;
  const size_t count = w.length / (size_t)cols;
  for (size_t i = 0; i < rows.length; i++)
    if (index[i] < 0 || (size_t)index[i] >= count) return throw_type_error(env, "widenRows: a row index is out of range");
  const uint16_t *pw = w.data;
  float *po = out.data;
  for (size_t i = 0; i < rows.length; i++) widen(pw + (size_t)index[i] * (size_t)cols, po + i * (size_t)cols, (size_t)cols, bf16);
  return NULL;
}
