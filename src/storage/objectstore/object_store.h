#pragma once
// One bucket of an object store behind Arrow's filesystem interface: S3 (custom endpoint,
// path-style addressing) when S3_ENDPOINT is set, otherwise a local directory with the same
// layout (<S3_LOCAL_DIR>/<bucket>/<key>), so every caller runs the same code path.
// Errors are ServiceError with a hint (wrong credentials, missing bucket, unreachable
// endpoint) and never contain the secret key.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <arrow/filesystem/filesystem.h>
#include <arrow/io/interfaces.h>
#include <arrow/table.h>

#include "core/config.h"

namespace datalab {

// Read from the settings by from(); their defaults live only in core/config.cpp.
struct ObjectStoreSettings {
  std::string endpoint;    // S3_ENDPOINT, http(s)://host:port; empty: local directory
  std::string access_key;  // AWS_ACCESS_KEY_ID
  std::string secret_key;  // AWS_SECRET_ACCESS_KEY (never printed)
  std::string region;      // S3_REGION
  std::string local_root;  // S3_LOCAL_DIR, used without an endpoint
  double connect_timeout_seconds = 5;
  int max_attempts = 3;

  static ObjectStoreSettings from(const Config& config);
  bool is_s3() const { return !endpoint.empty(); }
  // "S3 http://127.0.0.1:10456 (region us-east-1, key datalab)" or "local directory ...".
  std::string describe() const;
};

// A multipart upload that was started and neither completed nor aborted (a killed writer).
struct UnfinishedUpload {
  std::string key, upload_id, initiated;  // initiated: the server's ISO 8601 time
};

struct ObjectInfo {
  std::string key;  // relative to the bucket
  int64_t size = 0;
};

class ObjectStore {
 public:
  ObjectStore(ObjectStoreSettings settings, std::string bucket);

  const std::string& bucket() const { return bucket_; }
  const ObjectStoreSettings& settings() const { return settings_; }
  // The URI other tools use for a key: s3://bucket/key or file:///abs/dir/bucket/key.
  std::string uri(const std::string& key) const;
  // The key of a URI made by uri() (for reading back table metadata).
  std::string key_of(const std::string& uri) const;

  // Checks that the endpoint answers and the credentials are accepted; creates the bucket
  // when missing. Returns true when it was created.
  bool ensure_bucket();
  // Throws a clear error when the bucket does not exist (or cannot be reached).
  void require_bucket() const;

  // Objects under a prefix ("" = whole bucket), sorted by key.
  std::vector<ObjectInfo> list(const std::string& prefix, bool recursive = true) const;
  bool exists(const std::string& key) const;
  int64_t size(const std::string& key) const;

  std::shared_ptr<arrow::io::OutputStream> open_output(const std::string& key);
  std::shared_ptr<arrow::io::RandomAccessFile> open_input(const std::string& key) const;
  void write_bytes(const std::string& key, const std::string& bytes);
  std::string read_bytes(const std::string& key) const;
  std::shared_ptr<arrow::Table> read_parquet(const std::string& key) const;
  void remove(const std::string& key);
  // Moves an object to another key of the bucket; throws when `from` does not exist.
  void move(const std::string& from, const std::string& to);

  // Unfinished multipart uploads under a prefix (none for a local directory), and their abort.
  // Writers abort their own upload on failure; these clean up after a writer that was killed.
  std::vector<UnfinishedUpload> unfinished_uploads(const std::string& prefix) const;
  void abort_upload(const UnfinishedUpload& upload);
  // Aborts every unfinished upload under `prefix`; returns what was aborted.
  std::vector<UnfinishedUpload> abort_unfinished_uploads(const std::string& prefix);

  std::shared_ptr<arrow::fs::FileSystem> filesystem() const { return fs_; }

 private:
  std::string path(const std::string& key) const;
  [[noreturn]] void fail(const arrow::Status& status, const std::string& action) const;

  ObjectStoreSettings settings_;
  std::string bucket_;
  std::string base_;  // filesystem path of the bucket
  std::shared_ptr<arrow::fs::FileSystem> fs_;
};

}  // namespace datalab
