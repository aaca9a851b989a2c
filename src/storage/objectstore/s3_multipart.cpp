// Unfinished multipart uploads: what a killed writer leaves behind in an S3 bucket (the parts
// stay stored, invisible and billed, until aborted). Arrow's filesystem has no call for
// them, so this speaks the two S3 REST calls itself, signed by libcurl's SigV4.
#include <curl/curl.h>
#include <fmt/format.h>

#include <memory>
#include <mutex>

#include "core/error.h"
#include "storage/objectstore/object_store.h"

namespace datalab {

namespace {

// AWS's URI encoding: everything but unreserved characters (and '/' in paths) as %XX.
std::string aws_encode(const std::string& text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string xml_unescape(std::string text) {
  static const std::pair<const char*, const char*> entities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    const std::string f = from;
    for (auto at = text.find(f); at != std::string::npos; at = text.find(f, at + 1)) text.replace(at, f.size(), to);
  }
  return text;
}

// The text of the first <tag>…</tag> at or after `from`; npos-safe.
std::string xml_text(const std::string& xml, const std::string& tag, std::size_t from = 0) {
  const auto open = xml.find("<" + tag + ">", from);
  if (open == std::string::npos) return "";
  const auto begin = open + tag.size() + 2;
  const auto end = xml.find("</" + tag + ">", begin);
  return end == std::string::npos ? "" : xml_unescape(xml.substr(begin, end - begin));
}

size_t collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct Response {
  long status = 0;
  std::string body;
};

// One signed request. `canonical_query` must already be in SigV4's canonical form (sorted,
// name=value, encoded): libcurl 7.88 signs the query exactly as given.
Response s3_request(const ObjectStoreSettings& s, const std::string& method, const std::string& path,
                    const std::string& canonical_query) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> h(curl_easy_init(), &curl_easy_cleanup);
  if (!h) throw Error("libcurl could not create a handle");
  std::string endpoint = s.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const std::string url = endpoint + path + (canonical_query.empty() ? "" : "?" + canonical_query);
  const std::string sigv4 = "aws:amz:" + s.region + ":s3";
  Response response;
  curl_easy_setopt(h.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h.get(), CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(h.get(), CURLOPT_USERNAME, s.access_key.c_str());
  curl_easy_setopt(h.get(), CURLOPT_PASSWORD, s.secret_key.c_str());
  curl_easy_setopt(h.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.connect_timeout_seconds * 1000));
  curl_easy_setopt(h.get(), CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &response.body);
  if (const CURLcode code = curl_easy_perform(h.get()); code != CURLE_OK) {
    throw ServiceError(fmt::format("S3 {} {} failed: {}", method, path, curl_easy_strerror(code)));
  }
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace

std::vector<UnfinishedUpload> ObjectStore::unfinished_uploads(const std::string& prefix) const {
  std::vector<UnfinishedUpload> uploads;
  if (!settings_.is_s3()) return uploads;  // a local directory has no multipart uploads
  std::string key_marker, upload_id_marker;
  for (;;) {
    // Query parameters in SigV4's sorted order.
    std::string query;
    if (!key_marker.empty()) query += "key-marker=" + aws_encode(key_marker, false) + "&";
    query += "prefix=" + aws_encode(prefix, false);
    if (!upload_id_marker.empty()) query += "&upload-id-marker=" + aws_encode(upload_id_marker, false);
    query += "&uploads=";
    const auto response = s3_request(settings_, "GET", "/" + bucket_, query);
    if (response.status != 200) {
      throw ServiceError(fmt::format("cannot list unfinished uploads in bucket '{}': HTTP {} {}", bucket_,
                                     response.status, xml_text(response.body, "Code")));
    }
    for (auto at = response.body.find("<Upload>"); at != std::string::npos;
         at = response.body.find("<Upload>", at + 1)) {
      const auto end = response.body.find("</Upload>", at);
      const std::string entry = response.body.substr(at, end == std::string::npos ? std::string::npos : end - at);
      uploads.push_back({xml_text(entry, "Key"), xml_text(entry, "UploadId"), xml_text(entry, "Initiated")});
    }
    if (xml_text(response.body, "IsTruncated") != "true") break;
    key_marker = xml_text(response.body, "NextKeyMarker");
    upload_id_marker = xml_text(response.body, "NextUploadIdMarker");
    if (key_marker.empty()) break;
  }
  return uploads;
}

void ObjectStore::abort_upload(const UnfinishedUpload& upload) {
  const auto response = s3_request(settings_, "DELETE", "/" + bucket_ + "/" + aws_encode(upload.key, true),
                                   "uploadId=" + aws_encode(upload.upload_id, false));
  // 404: already completed or aborted by someone else, which is what was wanted.
  if (response.status != 204 && response.status != 200 && response.status != 404) {
    throw ServiceError(fmt::format("cannot abort the unfinished upload of '{}': HTTP {} {}", upload.key,
                                   response.status, xml_text(response.body, "Code")));
  }
}

std::vector<UnfinishedUpload> ObjectStore::abort_unfinished_uploads(const std::string& prefix) {
  auto uploads = unfinished_uploads(prefix);
  for (const auto& upload : uploads) abort_upload(upload);
  return uploads;
}

}  // namespace datalab
