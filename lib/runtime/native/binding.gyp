{
  "variables": {
    "openblas_include%": "/usr/include/x86_64-linux-gnu",
    "openblas_libdir%": "/usr/lib/x86_64-linux-gnu"
  },
  "targets": [
    {
      "target_name": "leaf_native",
      "sources": ["src/addon.c", "src/args.c", "src/gemm.c", "src/elementwise.c", "src/layout.c", "src/parallel.c", "src/logsumexp.c", "src/half.c", "src/fused.c", "src/adamw.c"],
      "include_dirs": ["<(openblas_include)"],
      "cflags": ["-O3", "-std=c11", "-Wall", "-Wextra"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=c11"] },
      "libraries": ["-L<(openblas_libdir)", "-Wl,-rpath,<(openblas_libdir)", "-lopenblas", "-lpthread"]
    }
  ]
}
