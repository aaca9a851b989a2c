#include "transfer/files/file_store.h"

#include <algorithm>
#include <filesystem>

#include <arrow/filesystem/localfs.h>
#include <fmt/format.h>

#include "core/arrow_status.h"
#include "core/error.h"
#include "storage/objectstore/object_store.h"

namespace datalab::transfer {

namespace {

// Arrow's local filesystem takes absolute paths only.
std::string absolute(const std::string& path) {
  return std::filesystem::absolute(path.empty() ? "." : path).lexically_normal().string();
}

arrow::fs::LocalFileSystem& local() {
  static arrow::fs::LocalFileSystem fs;
  return fs;
}

}  // namespace

std::pair<std::string, std::string> split_folder(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash + 1), path.substr(slash + 1)};
}

FileStore::FileStore(const Endpoint& endpoint, const Config& config) : bucket_(endpoint.bucket) {
  if (endpoint.s3) store_ = std::make_unique<ObjectStore>(ObjectStoreSettings::from(config), endpoint.bucket);
}

FileStore::~FileStore() = default;

std::string FileStore::display(const std::string& path) const {
  return s3() ? fmt::format("s3://{}/{}", bucket_, path) : path;
}

void FileStore::require_bucket() const {
  if (!s3()) return;
  if (store_->settings().is_s3()) {
    auto info = store_->filesystem()->GetFileInfo(bucket_);
    if (info.ok() && info->type() == arrow::fs::FileType::NotFound) {
      throw ConfigError(fmt::format("bucket '{}' does not exist on {}", bucket_, store_->settings().describe()));
    }
  }
  store_->require_bucket();  // unreachable endpoint, refused credentials: a ServiceError with its hint
}

bool FileStore::ensure_bucket() { return s3() ? store_->ensure_bucket() : false; }

std::optional<StoredFile> FileStore::file(const std::string& path) const {
  if (s3()) {
    if (!store_->exists(path)) return std::nullopt;
    return StoredFile{path, store_->size(path)};
  }
  auto info = unwrap_arrow(local().GetFileInfo(absolute(path)), fmt::format("cannot check '{}'", path));
  if (info.type() != arrow::fs::FileType::File) return std::nullopt;
  return StoredFile{path, info.size()};
}

bool FileStore::folder_exists(const std::string& folder) const {
  if (s3()) return true;  // S3 has no folders: a prefix without objects is just empty
  auto info = unwrap_arrow(local().GetFileInfo(absolute(folder)), fmt::format("cannot check '{}'", folder));
  return info.type() == arrow::fs::FileType::Directory;
}

std::vector<StoredFile> FileStore::list(const std::string& folder) const {
  std::vector<StoredFile> files;
  if (s3()) {
    for (auto& object : store_->list(folder, /*recursive=*/false)) files.push_back({object.key, object.size});
    return files;
  }
  arrow::fs::FileSelector selector;
  selector.base_dir = absolute(folder);
  selector.allow_not_found = true;
  auto infos = unwrap_arrow(local().GetFileInfo(selector), fmt::format("cannot list '{}'", folder));
  for (const auto& info : infos) {
    if (info.type() != arrow::fs::FileType::File) continue;
    files.push_back({folder + info.base_name(), info.size()});
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return files;
}

std::shared_ptr<arrow::io::RandomAccessFile> FileStore::open_input(const std::string& path) const {
  if (s3()) return store_->open_input(path);
  return unwrap_arrow(local().OpenInputFile(absolute(path)), fmt::format("cannot read '{}'", path));
}

std::shared_ptr<arrow::io::OutputStream> FileStore::open_output(const std::string& path) {
  if (s3()) return store_->open_output(path);
  const std::string full = absolute(path);
  check_arrow(local().CreateDir(std::filesystem::path(full).parent_path().string(), /*recursive=*/true),
              fmt::format("cannot create the folder of '{}'", path));
  return unwrap_arrow(local().OpenOutputStream(full), fmt::format("cannot write '{}'", path));
}

void FileStore::remove(const std::string& path) {
  if (s3()) return store_->remove(path);
  check_arrow(local().DeleteFile(absolute(path)), fmt::format("cannot delete '{}'", path));
}

void FileStore::rename(const std::string& from, const std::string& to) {
  if (s3()) throw Error("S3 objects cannot be renamed atomically");  // S3 writers complete in place instead
  check_arrow(local().Move(absolute(from), absolute(to)), fmt::format("cannot rename '{}' to '{}'", from, to));
}

}  // namespace datalab::transfer
