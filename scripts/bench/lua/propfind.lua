-- PROPFIND Depth 1 asking for four live properties (the URL names the collection).
wrk.method = "PROPFIND"
wrk.headers["Depth"] = "1"
wrk.headers["Content-Type"] = "application/xml; charset=utf-8"
wrk.body = '<?xml version="1.0" encoding="utf-8"?>\n' ..
  '<D:propfind xmlns:D="DAV:"><D:prop>' ..
  '<D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:getetag/>' ..
  '</D:prop></D:propfind>'
