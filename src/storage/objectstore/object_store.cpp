#include "storage/objectstore/object_store.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>

#include <arrow/filesystem/localfs.h>
#include <arrow/filesystem/s3fs.h>
#include <arrow/io/interfaces.h>
#include <arrow/io/memory.h>
#include <arrow/util/thread_pool.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>

#include "core/config.h"
#include "core/error.h"

namespace datalab {

namespace {

// Arrow's S3 layer (the AWS SDK) is set up once per process and must be torn down before
// the process ends (Arrow requires FinalizeS3); see the atexit handler in the constructor.
void ensure_s3_initialized() {
  static std::once_flag once;
  static arrow::Status status;
  std::call_once(once, [] {
    // Create Arrow's thread pools first: statics made later would be destroyed before the
    // atexit handler below runs, and finalizing S3 still uses them.
    (void)arrow::GetCpuThreadPoolCapacity();
    (void)arrow::io::GetIOThreadPoolCapacity();
    arrow::fs::S3GlobalOptions options = arrow::fs::S3GlobalOptions::Defaults();
    options.log_level = arrow::fs::S3LogLevel::Fatal;
    status = arrow::fs::InitializeS3(options);
  });
  if (!status.ok()) throw ServiceError("cannot initialize Arrow's S3 support: " + status.ToString());
}

bool contains_any(const std::string& text, std::initializer_list<const char*> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](const char* n) { return text.find(n) != std::string::npos; });
}

}  // namespace

ObjectStoreSettings ObjectStoreSettings::from(const Config& config) {
  ObjectStoreSettings s;
  s.endpoint = config.value("S3_ENDPOINT");
  s.access_key = config.value("AWS_ACCESS_KEY_ID");
  s.secret_key = config.value("AWS_SECRET_ACCESS_KEY");
  s.region = config.value("S3_REGION");
  s.local_root = config.value("S3_LOCAL_DIR");
  return s;
}

std::string ObjectStoreSettings::describe() const {
  if (!is_s3()) return fmt::format("local directory {}", std::filesystem::absolute(local_root).lexically_normal().string());
  return fmt::format("S3 {} (region {}, key {})", endpoint, region, access_key.empty() ? "<none>" : access_key);
}

ObjectStore::ObjectStore(ObjectStoreSettings settings, std::string bucket)
    : settings_(std::move(settings)), bucket_(std::move(bucket)) {
  if (bucket_.empty() || bucket_.find('/') != std::string::npos) {
    throw ConfigError(fmt::format("bucket name '{}' is not valid (S3_BUCKET)", bucket_));
  }
  if (!settings_.is_s3()) {
    const auto root = std::filesystem::absolute(settings_.local_root).lexically_normal();
    base_ = (root / bucket_).string();
    fs_ = std::make_shared<arrow::fs::LocalFileSystem>();
    return;
  }
  const auto& endpoint = settings_.endpoint;
  const auto scheme_end = endpoint.find("://");
  std::string scheme = "https", host = endpoint;
  if (scheme_end != std::string::npos) {
    scheme = endpoint.substr(0, scheme_end);
    host = endpoint.substr(scheme_end + 3);
  }
  while (!host.empty() && host.back() == '/') host.pop_back();
  if ((scheme != "http" && scheme != "https") || host.empty()) {
    throw ConfigError(fmt::format("S3_ENDPOINT '{}' is not an http(s)://host:port address", endpoint));
  }
  if (settings_.access_key.empty() || settings_.secret_key.empty()) {
    throw ConfigError(fmt::format(
        "S3_ENDPOINT is set ({}) but AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is empty", endpoint));
  }
  ensure_s3_initialized();
  auto options = arrow::fs::S3Options::FromAccessKey(settings_.access_key, settings_.secret_key);
  options.endpoint_override = host;
  options.scheme = scheme;
  options.region = settings_.region;
  options.force_virtual_addressing = false;  // path-style: http://host:port/bucket/key
  options.allow_bucket_creation = true;
  options.connect_timeout = settings_.connect_timeout_seconds;
  options.retry_strategy = arrow::fs::S3RetryStrategy::GetAwsStandardRetryStrategy(settings_.max_attempts);
  auto made = arrow::fs::S3FileSystem::Make(options);
  if (!made.ok()) fail(made.status(), "cannot set up the S3 client");
  // Registered after the first client exists: Arrow's client finalizer is a static made with
  // it, which must outlive the handler (handlers and static destructors run in reverse order).
  static std::once_flag finalize_once;
  std::call_once(finalize_once, [] { std::atexit([] { (void)arrow::fs::EnsureS3Finalized(); }); });
  fs_ = *made;
  base_ = bucket_;
}

std::string ObjectStore::path(const std::string& key) const {
  std::string k = key;
  while (!k.empty() && k.front() == '/') k.erase(0, 1);
  return k.empty() ? base_ : base_ + "/" + k;
}

std::string ObjectStore::uri(const std::string& key) const {
  if (settings_.is_s3()) return "s3://" + path(key);
  return "file://" + path(key);
}

std::string ObjectStore::key_of(const std::string& uri) const {
  const std::string prefix = settings_.is_s3() ? "s3://" + base_ + "/" : "file://" + base_ + "/";
  if (uri.rfind(prefix, 0) == 0) return uri.substr(prefix.size());
  // Other spellings of the same bucket (s3a://, a bare path).
  for (const std::string& alt : {"s3a://" + base_ + "/", base_ + "/", "/" + base_ + "/"}) {
    if (uri.rfind(alt, 0) == 0) return uri.substr(alt.size());
  }
  throw Error(fmt::format("'{}' is not an object of bucket '{}' ({})", uri, bucket_, settings_.describe()));
}

void ObjectStore::fail(const arrow::Status& status, const std::string& action) const {
  std::string detail = mask_secrets(status.ToString(), {settings_.secret_key});
  std::string hint;
  bool unreachable = false;
  if (settings_.is_s3()) {
    if (contains_any(detail, {"ACCESS_DENIED", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied",
                              "INVALID_ACCESS_KEY_ID", "SIGNATURE_DOES_NOT_MATCH", "HTTP response code: 403"})) {
      hint = fmt::format("the S3 server refused the credentials: check AWS_ACCESS_KEY_ID ('{}') and AWS_SECRET_ACCESS_KEY",
                         settings_.access_key);
    } else if (contains_any(detail, {"NoSuchBucket", "NO_SUCH_BUCKET", "Bucket does not exist", "bucket does not exist"})) {
      hint = fmt::format("bucket '{}' does not exist (S3_BUCKET)", bucket_);
    } else if (contains_any(detail, {"curlCode", "NETWORK_CONNECTION", "Couldn't connect", "Could not connect",
                                     "Connection refused", "Failed to connect", "Timeout was reached",
                                     "Could not resolve host"})) {
      hint = fmt::format("the S3 endpoint {} does not answer: is the server running? check S3_ENDPOINT",
                         settings_.endpoint);
      unreachable = true;
    }
  }
  throw ServiceError(fmt::format("object store {}: {}{}{}\n  ({})", settings_.describe(), action,
                                 hint.empty() ? "" : ": ", hint, detail), unreachable ? "seaweedfs" : "");
}

bool ObjectStore::ensure_bucket() {
  auto info = fs_->GetFileInfo(base_);
  if (!info.ok()) fail(info.status(), fmt::format("cannot check bucket '{}'", bucket_));
  if (info->type() == arrow::fs::FileType::Directory) return false;
  if (auto st = fs_->CreateDir(base_, /*recursive=*/true); !st.ok()) {
    fail(st, fmt::format("cannot create bucket '{}'", bucket_));
  }
  return true;
}

void ObjectStore::require_bucket() const {
  auto info = fs_->GetFileInfo(base_);
  if (!info.ok()) fail(info.status(), fmt::format("cannot check bucket '{}'", bucket_));
  if (info->type() != arrow::fs::FileType::Directory) {
    throw ServiceError(fmt::format("object store {}: bucket '{}' does not exist (S3_BUCKET)", settings_.describe(), bucket_));
  }
}

std::vector<ObjectInfo> ObjectStore::list(const std::string& prefix, bool recursive) const {
  // A prefix is either a folder ("processed/") or the start of names ("processed/2025").
  std::string folder = prefix, name_start;
  if (!prefix.empty() && prefix.back() != '/') {
    const auto slash = prefix.rfind('/');
    folder = slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
    name_start = prefix;
  }
  arrow::fs::FileSelector selector;
  selector.base_dir = path(folder);
  selector.recursive = recursive;
  selector.allow_not_found = true;
  auto infos = fs_->GetFileInfo(selector);
  if (!infos.ok()) fail(infos.status(), fmt::format("cannot list '{}'", prefix));
  std::vector<ObjectInfo> result;
  for (const auto& info : *infos) {
    if (info.type() != arrow::fs::FileType::File) continue;
    std::string key = info.path().substr(base_.size() + 1);
    if (!name_start.empty() && key.rfind(name_start, 0) != 0) continue;
    result.push_back({std::move(key), info.size()});
  }
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return result;
}

bool ObjectStore::exists(const std::string& key) const {
  auto info = fs_->GetFileInfo(path(key));
  if (!info.ok()) fail(info.status(), fmt::format("cannot check '{}'", key));
  return info->type() == arrow::fs::FileType::File;
}

int64_t ObjectStore::size(const std::string& key) const {
  auto info = fs_->GetFileInfo(path(key));
  if (!info.ok()) fail(info.status(), fmt::format("cannot check '{}'", key));
  if (info->type() != arrow::fs::FileType::File) throw Error(fmt::format("object '{}' does not exist", key));
  return info->size();
}

std::shared_ptr<arrow::io::OutputStream> ObjectStore::open_output(const std::string& key) {
  const std::string p = path(key);
  if (!settings_.is_s3()) {  // a local directory needs its parent folders
    const auto parent = std::filesystem::path(p).parent_path().string();
    if (auto st = fs_->CreateDir(parent, true); !st.ok()) fail(st, fmt::format("cannot create folder for '{}'", key));
  }
  auto out = fs_->OpenOutputStream(p);
  if (!out.ok()) fail(out.status(), fmt::format("cannot write '{}'", key));
  return *out;
}

std::shared_ptr<arrow::io::RandomAccessFile> ObjectStore::open_input(const std::string& key) const {
  auto in = fs_->OpenInputFile(path(key));
  if (!in.ok()) fail(in.status(), fmt::format("cannot read '{}'", key));
  return *in;
}

void ObjectStore::write_bytes(const std::string& key, const std::string& bytes) {
  auto out = open_output(key);
  if (auto st = out->Write(bytes.data(), static_cast<int64_t>(bytes.size())); !st.ok()) {
    (void)out->Abort();
    fail(st, fmt::format("cannot write '{}'", key));
  }
  if (auto st = out->Close(); !st.ok()) fail(st, fmt::format("cannot finish '{}'", key));
}

std::string ObjectStore::read_bytes(const std::string& key) const {
  auto in = open_input(key);
  auto size = in->GetSize();
  if (!size.ok()) fail(size.status(), fmt::format("cannot read '{}'", key));
  auto buffer = in->ReadAt(0, *size);
  if (!buffer.ok()) fail(buffer.status(), fmt::format("cannot read '{}'", key));
  return (*buffer)->ToString();
}

std::shared_ptr<arrow::Table> ObjectStore::read_parquet(const std::string& key) const {
  auto reader = parquet::arrow::OpenFile(open_input(key), arrow::default_memory_pool());
  if (!reader.ok()) throw Error(fmt::format("'{}' is not a Parquet file: {}", key, reader.status().ToString()));
  auto table = (*reader)->ReadTable();
  if (!table.ok()) fail(table.status(), fmt::format("cannot read Parquet '{}'", key));
  return *table;
}

void ObjectStore::remove(const std::string& key) {
  if (auto st = fs_->DeleteFile(path(key)); !st.ok()) fail(st, fmt::format("cannot delete '{}'", key));
}

void ObjectStore::move(const std::string& from, const std::string& to) {
  if (!exists(from)) throw Error(fmt::format("cannot move '{}': no such object in bucket '{}'", from, bucket_));
  if (!settings_.is_s3()) {
    const auto parent = std::filesystem::path(path(to)).parent_path().string();
    if (auto st = fs_->CreateDir(parent, true); !st.ok()) fail(st, fmt::format("cannot create folder for '{}'", to));
  }
  if (auto st = fs_->Move(path(from), path(to)); !st.ok()) fail(st, fmt::format("cannot move '{}' to '{}'", from, to));
}

}  // namespace datalab
