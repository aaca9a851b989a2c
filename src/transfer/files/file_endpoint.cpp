#include "transfer/files/file_endpoint.h"

#include <fnmatch.h>

#include <cstdio>
#include <ctime>
#include <set>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/uuid.h"
#include "formats/parquet_file.h"
#include "transfer/files/file_formats.h"
#include "transfer/files/file_store.h"
#include "transfer/watermark_text.h"

namespace datalab::transfer {

namespace {

bool has_wildcard(const std::string& text) { return text.find_first_of("*?[") != std::string::npos; }

// Files other tools keep beside the data (_SUCCESS, .crc, a writer's temporary file).
bool hidden(const std::string& name) { return name.empty() || name.starts_with('.') || name.starts_with('_'); }

std::string path_of(const Endpoint& e) { return e.s3 ? e.key : e.location; }

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string column_list(const arrow::Schema& schema) {
  std::vector<std::string> columns;
  for (const auto& field : schema.fields()) columns.push_back(field->name() + " " + field->type()->ToString());
  return fmt::format("{}", fmt::join(columns, ", "));
}

// The first way `got` differs from `want` (column names and types; nullability and metadata aside).
std::optional<std::string> difference(const arrow::Schema& want, const arrow::Schema& got) {
  bool same_names = want.num_fields() == got.num_fields();
  for (int c = 0; same_names && c < want.num_fields(); ++c) same_names = want.field(c)->name() == got.field(c)->name();
  if (!same_names) return fmt::format("its columns are ({}) there but ({}) here", column_list(want), column_list(got));
  for (int c = 0; c < want.num_fields(); ++c) {
    const auto &a = *want.field(c), &b = *got.field(c);
    if (!a.type()->Equals(*b.type())) {
      return fmt::format("column '{}' is {} there but {} here", a.name(), a.type()->ToString(), b.type()->ToString());
    }
  }
  return std::nullopt;
}

struct FileSet {
  std::vector<StoredFile> files;
  FileFormat format = FileFormat::parquet;
};

// One file, every file of the format in a folder ('folder/'), or the files a glob in the
// last part of the name matches ('folder/*.csv'), sorted by name.
FileSet resolve_source(const Endpoint& e, FileStore& store) {
  store.require_bucket();
  const std::string path = path_of(e);
  const auto [folder, name] = split_folder(path);
  if (has_wildcard(folder)) {
    throw ConfigError(fmt::format("'{}': wildcards work in the file name only (e.g. folder/*.csv)", e.masked));
  }
  FileSet set;
  if (!name.empty() && !has_wildcard(name)) {
    auto file = store.file(path);
    if (!file) throw ConfigError(fmt::format("'{}' does not exist", store.display(path)));
    set.files.push_back(*file);
    set.format = *e.format;  // parse_endpoint knows it from the name
    return set;
  }
  if (!folder.empty() && !store.folder_exists(folder)) {
    throw ConfigError(fmt::format("folder '{}' does not exist", store.display(folder)));
  }
  std::set<FileFormat> formats;
  for (auto& file : store.list(folder)) {
    const std::string base = base_name(file.path);
    if (hidden(base)) continue;
    if (!name.empty() && fnmatch(name.c_str(), base.c_str(), 0) != 0) continue;
    const auto format = format_of_name(base);
    if (!format || (e.format && *format != *e.format)) continue;
    formats.insert(*format);
    set.files.push_back(std::move(file));
  }
  if (set.files.empty()) {
    throw ConfigError(fmt::format("'{}' matches no {} file", e.masked,
                                  e.format ? extension_of(*e.format) : ".parquet, .csv or .jsonl"));
  }
  if (formats.size() > 1) {
    std::vector<std::string> names;
    for (const auto f : formats) names.push_back(extension_of(f));
    throw ConfigError(fmt::format("'{}' holds files of several formats ({}): name one, e.g. {}*.{}", e.masked,
                                  fmt::join(names, ", "), store.display(folder), names.front()));
  }
  set.format = *formats.begin();
  return set;
}

// The types Arrow's CSV reader converts text into.
bool csv_parses(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::BOOL:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::DECIMAL128:
    case arrow::Type::DATE32:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::STRING: return true;
    default: return false;
  }
}

class FileSetSource : public BatchSource {
 public:
  FileSetSource(const Endpoint& endpoint, const Config& config) : store_(endpoint, config) {
    set_ = resolve_source(endpoint, store_);
    const auto& first = set_.files.front();
    schema_ = infer_schema(set_.format, store_.open_input(first.path), store_.display(first.path));
    open(0);
  }

  std::shared_ptr<arrow::Schema> schema() override { return schema_; }

  void read_as(const arrow::Schema& target_columns) override {
    if (set_.format != FileFormat::csv) return;  // Parquet is typed; JSON Lines keeps its inference
    arrow::FieldVector fields;
    bool changed = false;
    for (const auto& field : schema_->fields()) {
      const auto target = target_columns.GetFieldByName(field->name());
      if (target && csv_parses(*target->type()) && !target->type()->Equals(*field->type())) {
        fields.push_back(field->WithType(target->type()));
        changed = true;
      } else {
        fields.push_back(field);
      }
    }
    if (!changed) return;
    schema_ = arrow::schema(fields);
    open(0);
  }

  std::shared_ptr<arrow::RecordBatch> next() override {
    while (reader_) {
      if (auto batch = reader_->next()) return batch;
      bytes_read_ += static_cast<uint64_t>(set_.files[index_].size);
      reader_.reset();
      if (index_ + 1 < set_.files.size()) open(index_ + 1);
    }
    return nullptr;
  }

  uint64_t bytes_read() const override { return bytes_read_; }

 private:
  void open(std::size_t index) {
    index_ = index;
    const std::string name = store_.display(set_.files[index].path);
    reader_ = open_reader(set_.format, store_.open_input(set_.files[index].path), name, schema_);
    if (auto diff = difference(*schema_, *reader_->schema())) {
      throw ConfigError(fmt::format("'{}' does not match the first file '{}' of the set: {}; the files of one copy "
                                    "must share their columns",
                                    name, store_.display(set_.files.front().path), *diff));
    }
  }

  FileStore store_;
  FileSet set_;
  std::shared_ptr<arrow::Schema> schema_;
  std::size_t index_ = 0;
  std::unique_ptr<FormatReader> reader_;
  uint64_t bytes_read_ = 0;
};

// part-20250101T120000Z-1a2b3c4d.parquet: sorts by time, unique without coordination.
std::string part_name(FileFormat format) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);  // fmt 9 would format a time_point in local time
  return fmt::format("part-{:%Y%m%dT%H%M%SZ}-{}.{}", utc, random_uuid().substr(0, 8), extension_of(format));
}

class FileTarget : public BatchTarget {
 public:
  FileTarget(const Endpoint& endpoint, const Config& config) : endpoint_(endpoint), store_(endpoint, config) {
    const std::string path = path_of(endpoint);
    auto [folder, name] = split_folder(path);
    if (has_wildcard(folder)) {
      throw ConfigError(fmt::format("'{}': a target is one file or a folder ending in '/'", endpoint.masked));
    }
    folder_ = folder;
    if (name.empty() || (name.starts_with("*.") && !has_wildcard(name.substr(1)))) {
      // A folder ('out/', or 'out/*.csv' to name the format): each copy adds a file.
      into_folder_ = true;
      format_ = endpoint.format.value_or(FileFormat::parquet);
    } else if (has_wildcard(name)) {
      throw ConfigError(fmt::format("'{}': a target is one file or a folder ending in '/' (or 'folder/*.csv' to "
                                    "name the format of its files)",
                                    endpoint.masked));
    } else {
      format_ = *endpoint.format;
      final_ = path;
    }
  }

  ~FileTarget() override {
    if (!writer_ || committed_) return;
    writer_->abort();  // an S3 upload is aborted, never completed: the previous object stays
    if (!store_.s3()) {
      try {
        store_.remove(write_path_);
      } catch (const std::exception&) {  // a leftover temporary file is hidden from readers
      }
    }
  }

  // Incremental copies into a Parquet folder: each run's part file carries the watermark in
  // its footer (with the run's number), so the rows and the watermark appear together — the
  // part file appears whole at commit or not at all — and the next run starts from the part
  // with the highest number for this source.
  std::optional<Watermark> stored_watermark(const std::string& source_id, const IncrementalFilter& filter) override {
    if (!into_folder_ || format_ != FileFormat::parquet) {
      throw ConfigError(fmt::format("--incremental into files needs a Parquet folder ('out/' or "
                                    "'s3://bucket/out/'): each run adds a part file whose footer keeps the watermark; "
                                    "'{}' cannot",
                                    endpoint_.masked));
    }
    incremental_ = filter;
    watermark_key_ = "datalab.watermark " + source_id;
    std::optional<Watermark> latest;
    if (store_.s3()) store_.require_bucket();
    if (!store_.folder_exists(folder_)) return latest;
    for (const auto& file : store_.list(folder_)) {
      const std::string base = base_name(file.path);
      if (hidden(base) || format_of_name(base) != FileFormat::parquet) continue;
      const auto stored = parquet_footer_property(store_.open_input(file.path), watermark_key_, store_.display(file.path));
      if (!stored) continue;
      const auto run = nlohmann::json::parse(*stored, nullptr, false);
      if (!run.is_object() || !run.contains("run") || !run["run"].is_number_integer() || !run.contains("watermark")) {
        throw ServiceError(fmt::format("{} holds a watermark that is not one datalab wrote: {}",
                                       store_.display(file.path), *stored));
      }
      const int64_t number = run["run"].get<int64_t>();
      if (number <= last_run_) continue;
      last_run_ = number;
      latest = parse_watermark_text(run["watermark"].dump(), filter, store_.display(file.path));
    }
    return latest;
  }

  std::shared_ptr<arrow::Schema> open(const std::shared_ptr<arrow::Schema>& source_schema,
                                      const TargetOptions& options) override {
    if (options.mode == WriteMode::merge) {
      throw ConfigError("--mode merge: files cannot update rows in place; use --mode replace (or append into a "
                        "folder), or a database target");
    }
    mode_ = options.mode;
    check_writable(format_, *source_schema);
    if (store_.ensure_bucket()) {
      fmt::print(stderr, "note: bucket '{}' did not exist and was created\n", endpoint_.bucket);
    }
    if (into_folder_) {
      final_ = folder_ + part_name(format_);
    } else if (mode_ == WriteMode::append && store_.file(final_)) {
      throw ConfigError(fmt::format("'{}' exists already and a file cannot be appended to: use --mode replace to "
                                    "overwrite it, or a folder target ('{}') to add a file beside it",
                                    store_.display(final_), store_.display(folder_.empty() ? "./" : folder_)));
    }
    // S3: the object appears when its multipart upload completes at commit(). Local: a hidden
    // file in the same folder, renamed over the target at commit() (an atomic rename).
    write_path_ = store_.s3() ? final_
                              : folder_ + "." + base_name(final_) + "." + random_uuid().substr(0, 8) + ".tmp";
    sink_ = store_.open_output(write_path_);
    writer_ = open_writer(format_, sink_, source_schema);
    return source_schema;
  }

  void write(const arrow::RecordBatch& batch) override {
    writer_->write(batch);
    rows_ += batch.num_rows();
  }

  void commit(const std::string&, const std::optional<Watermark>& watermark) override {
    if (incremental_) {
      if (rows_ == 0 || !watermark) return;  // nothing new: no part file, the last one's watermark stands
      writer_->add_footer_property(
          watermark_key_,
          nlohmann::json{{"run", last_run_ + 1}, {"watermark", nlohmann::json::parse(watermark_text(*incremental_, *watermark))}}
              .dump());
    }
    writer_->close();
    if (!store_.s3()) store_.rename(write_path_, final_);
    committed_ = true;
    if (auto file = store_.file(final_)) bytes_written_ = static_cast<uint64_t>(file->size);
    if (into_folder_ && mode_ == WriteMode::replace) {
      // The new file is in place first: a reader sees the old files or the new one, never none.
      for (const auto& file : store_.list(folder_)) {
        const std::string base = base_name(file.path);
        if (file.path == final_ || hidden(base) || format_of_name(base) != format_) continue;
        store_.remove(file.path);
      }
    }
  }

  uint64_t bytes_written() const override { return bytes_written_; }

 private:
  Endpoint endpoint_;
  FileStore store_;
  FileFormat format_ = FileFormat::parquet;
  bool into_folder_ = false;
  std::string folder_, final_, write_path_;
  WriteMode mode_ = WriteMode::append;
  std::shared_ptr<arrow::io::OutputStream> sink_;
  std::unique_ptr<FormatWriter> writer_;
  bool committed_ = false;
  std::optional<IncrementalFilter> incremental_;
  std::string watermark_key_;  // the footer key of this source's watermarks
  int64_t last_run_ = 0;       // the highest run number found for this source
  int64_t rows_ = 0;
  uint64_t bytes_written_ = 0;
};

}  // namespace

std::unique_ptr<BatchSource> make_file_source(const Endpoint& endpoint, const Config& config,
                                              const std::optional<IncrementalFilter>& filter) {
  if (filter) {
    throw ConfigError(fmt::format("--incremental needs a PostgreSQL or ClickHouse source: {} ('{}') are copied whole",
                                  endpoint.kind_name(), endpoint.masked));
  }
  return std::make_unique<FileSetSource>(endpoint, config);
}

std::unique_ptr<BatchTarget> make_file_target(const Endpoint& endpoint, const Config& config) {
  return std::make_unique<FileTarget>(endpoint, config);
}

}  // namespace datalab::transfer
