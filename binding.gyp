{
  "targets": [
    {
      "target_name": "malloc_trim",
      "sources": ["native/mallocTrim.c"]
    },
    {
      "target_name": "member_stats",
      "sources": ["native/memberStats.c"],
      "cflags": ["-ffp-contract=off"]
    }
  ]
}
