// Data movement for Transpose, Slice, SplitV, PadV2 and friends: one strided copy covers them all.
#include <string.h>
#include "strided.h"

// copyStrided(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape)
// dst[dstOffset + Σ i_d·dstStrides[d]] = src[srcOffset + Σ i_d·srcStrides[d]] over the index space
// `shape`. Elements are 4 bytes and copied bitwise, so float32 and int32 tensors share it.
DECLARE_ENTRY(copy_strided) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv, "copyStrided")) return NULL;
  View src, dst, src_strides, dst_strides, shape;
  int64_t src_offset, dst_offset;
  if (!arg_typed_4byte(env, argv[0], &src, "copyStrided: src must be a 4-byte typed array") ||
      !arg_int(env, argv[1], &src_offset, "copyStrided: srcOffset must be a non-negative integer") ||
      !arg_dims(env, argv[2], &src_strides, "copyStrided: srcStrides must be an Int32Array of non-negative strides") ||
      !arg_typed_4byte(env, argv[3], &dst, "copyStrided: dst must be a 4-byte typed array") ||
      !arg_int(env, argv[4], &dst_offset, "copyStrided: dstOffset must be a non-negative integer") ||
      !arg_dims(env, argv[5], &dst_strides, "copyStrided: dstStrides must be an Int32Array of non-negative strides") ||
      !arg_dims(env, argv[6], &shape, "copyStrided: shape must be an Int32Array of non-negative sizes"))
    return NULL;
  const int rank = (int)shape.length;
  if (src_strides.length != shape.length || dst_strides.length != shape.length)
    return throw_type_error(env, "copyStrided: strides and shape differ in rank");
  const int32_t *dims = shape.data, *ss = src_strides.data, *ds = dst_strides.data;
  if (!strided_fits(src_offset, dims, ss, rank, src.length) || !strided_fits(dst_offset, dims, ds, rank, dst.length))
    return throw_type_error(env, "copyStrided: the index space reaches outside src or dst");
  if (shape_size(dims, rank) == 0) return NULL;

  const uint32_t *from = src.data;
  uint32_t *to = dst.data;
  const int32_t *strides[2] = {ss, ds};
  const int64_t offsets[2] = {src_offset, dst_offset};
  RowIter it;
  row_iter_init(&it, rank, dims, 2, strides, offsets);
  const int64_t rows = row_count(rank, dims), n = inner_length(rank, dims);
  const int64_t s = inner_stride(rank, ss), d = inner_stride(rank, ds);
  for (int64_t r = 0; r < rows; r++, row_iter_next(&it)) {
    const uint32_t *a = from + it.offset[0];
    uint32_t *b = to + it.offset[1];
    if (s == 1 && d == 1)
      memcpy(b, a, (size_t)n * sizeof *a);
    else if (d == 1)
      for (int64_t j = 0; j < n; j++) b[j] = a[j * s];
    else
      for (int64_t j = 0; j < n; j++) b[j * d] = a[j * s];
  }
  return NULL;
}

// gather(x, batch, outer, dim, slice, indices, out)
// x viewed as [batch, outer, dim, slice] and indices as [batch, n]:
// out[b, o, i, :] = x[b, o, indices[b, i], :] (tfjs GatherV2, batchDims folded into `batch`).
DECLARE_ENTRY(gather) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv, "gather")) return NULL;
  View xv, iv, ov;
  int64_t batch, outer, dim, slice;
  if (!arg_typed_4byte(env, argv[0], &xv, "gather: x must be a 4-byte typed array") ||
      !arg_int(env, argv[1], &batch, "gather: batch must be a non-negative integer") ||
      !arg_int(env, argv[2], &outer, "gather: outer must be a non-negative integer") ||
      !arg_int(env, argv[3], &dim, "gather: dim must be a non-negative integer") ||
      !arg_int(env, argv[4], &slice, "gather: slice must be a non-negative integer") ||
      !arg_typed_of(env, argv[5], napi_int32_array, false, &iv, "gather: indices must be an Int32Array") ||
      !arg_typed_4byte(env, argv[6], &ov, "gather: out must be a 4-byte typed array"))
    return NULL;
  if (batch == 0 || iv.length % (size_t)batch) return throw_type_error(env, "gather: indices must hold batch rows");
  const int64_t n = (int64_t)iv.length / batch;
  if ((int64_t)xv.length != batch * outer * dim * slice || (int64_t)ov.length != batch * outer * n * slice)
    return throw_type_error(env, "gather: x or out does not match the given shape");
  const int32_t *indices = iv.data;
  for (size_t i = 0; i < iv.length; i++)
    if (indices[i] < 0 || indices[i] >= dim) return throw_type_error(env, "gather: index out of range");
  const uint32_t *x = xv.data;
  uint32_t *o = ov.data;
  for (int64_t b = 0; b < batch; b++)
    for (int64_t q = 0; q < outer; q++) {
      const uint32_t *from = x + (b * outer + q) * dim * slice;
      uint32_t *to = o + (b * outer + q) * n * slice;
      for (int64_t i = 0; i < n; i++) memcpy(to + i * slice, from + (int64_t)indices[b * n + i] * slice, (size_t)slice * sizeof *x);
    }
  return NULL;
}
