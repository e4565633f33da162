{
  "targets": [
    {
      "target_name": "malloc_trim",
      "sources": ["native/mallocTrim.c"]
    },
    {
      "target_name": "member_listing",
      "sources": ["native/memberListing.c"],
      "cflags": ["-ffp-contract=off"]
    },
    {
      "target_name": "zero_copy_send",
      "sources": ["native/zeroCopySend.c"]
    },
    {
      "target_name": "content_hashes",
      "sources": ["native/contentHashes.c"],
      "libraries": ["-ldl"]
    },
    {
      "target_name": "directory_watch",
      "sources": ["native/directoryWatch.c"]
    },
    {
      "target_name": "durable_write",
      "sources": ["native/durableWrite.c"]
    }
  ]
}
