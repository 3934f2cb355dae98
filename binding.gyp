{
  "variables": {
    "dnnl%": "<!(node -p \"require('fs').existsSync('/usr/include/oneapi/dnnl/dnnl.hpp') ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "featlab_native",
      "sources": ["native/featlab_native.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "/usr/include/x86_64-linux-gnu", "/usr/include/openblas"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-march=native", "-std=c++17", "-ffp-contract=off", "-fno-trapping-math", "-fopenmp-simd", "-pthread"],
      "libraries": ["-lopenblas", "-llapacke", "-pthread"],
      "conditions": [
        ["dnnl==1", {
          "defines": ["FEATLAB_DNNL=1"],
          "cflags_cc": ["-fexceptions"],
          "libraries": ["-ldnnl", "-lgomp"]
        }]
      ]
    }
  ]
}
