-- PROPFIND Depth 1 without a body: allprop (RFC 4918 §9.1), as Windows Explorer lists a folder.
wrk.method = "PROPFIND"
wrk.headers["Depth"] = "1"
