{
  "targets": [
    {
      "target_name": "malloc_trim",
      "sources": ["native/mallocTrim.c"]
    }
  ]
}
