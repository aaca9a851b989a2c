#pragma once
// Where the files of a copy live: a local folder tree or an S3 bucket (through ObjectStore),
// behind the few operations the file ends need. Paths are local paths or keys of the bucket.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/io/interfaces.h>

#include "core/config.h"
#include "transfer/endpoint.h"

namespace datalab {
class ObjectStore;
}

namespace datalab::transfer {

struct StoredFile {
  std::string path;  // local path or key
  int64_t size = 0;
};

class FileStore {
 public:
  // S3 when the endpoint is s3://, else the local disk.
  FileStore(const Endpoint& endpoint, const Config& config);
  ~FileStore();

  bool s3() const { return store_ != nullptr; }
  // What a user reads in messages: s3://bucket/key or the local path.
  std::string display(const std::string& path) const;

  // A missing S3 bucket is a ConfigError naming it (a typo in an argument, not a failing service).
  void require_bucket() const;
  // Creates a missing bucket; true when it did.
  bool ensure_bucket();

  std::optional<StoredFile> file(const std::string& path) const;  // nullopt: no such file
  bool folder_exists(const std::string& folder) const;
  // The files directly in `folder` ("" = the bucket's root or the current directory), by name.
  std::vector<StoredFile> list(const std::string& folder) const;

  std::shared_ptr<arrow::io::RandomAccessFile> open_input(const std::string& path) const;
  // Local: creates the parent folders. S3: the object appears only when the stream is closed
  // (a multipart upload completed then); Abort() leaves nothing behind.
  std::shared_ptr<arrow::io::OutputStream> open_output(const std::string& path);
  void remove(const std::string& path);
  // Local only: an atomic rename within one folder.
  void rename(const std::string& from, const std::string& to);

 private:
  std::string bucket_;
  std::unique_ptr<ObjectStore> store_;
};

// "dir/sub/name" -> {"dir/sub/", "name"}; "name" -> {"", "name"}.
std::pair<std::string, std::string> split_folder(const std::string& path);

}  // namespace datalab::transfer
