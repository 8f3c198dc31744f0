{
  "targets": [
    {
      "target_name": "lsprobe_udprx",
      "sources": ["native/udprx.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
