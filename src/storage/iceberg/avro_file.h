#pragma once
// Avro object container files (the format of Iceberg manifests and manifest lists) in
// memory. Records are encoded and decoded by avro-c; the container framing is written here
// so that the header carries the exact schema text (with Iceberg's field-id attributes,
// which avro-c would drop) and the file-level metadata Iceberg requires.
#include <avro.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace datalab::iceberg {

// One record being filled: fields addressed by name; nested records by dotted path
// ("data_file.file_path"). Union fields take the branch of the value's type, or null.
class AvroRecord {
 public:
  explicit AvroRecord(avro_value_t* value) : value_(value) {}
  void set_int(const std::string& path, int32_t v);
  void set_long(const std::string& path, int64_t v);
  void set_string(const std::string& path, const std::string& v);
  void set_bool(const std::string& path, bool v);
  // For ["null", T] unions: nullopt picks the null branch.
  void set_optional_long(const std::string& path, std::optional<int64_t> v);
  void set_null(const std::string& path);
  // For ["null", map] unions (Avro arrays of key/value records, as Iceberg writes maps).
  void set_int_long_map(const std::string& path, const std::vector<std::pair<int32_t, int64_t>>& entries);
  void set_int_bytes_map(const std::string& path, const std::vector<std::pair<int32_t, std::string>>& entries);

 private:
  avro_value_t field(const std::string& path);
  avro_value_t* value_;
};

class AvroFileWriter {
 public:
  AvroFileWriter(std::string schema_json, std::vector<std::pair<std::string, std::string>> metadata);
  ~AvroFileWriter();
  AvroFileWriter(const AvroFileWriter&) = delete;
  AvroFileWriter& operator=(const AvroFileWriter&) = delete;

  // Encodes one record filled by `fill`.
  void append(const std::function<void(AvroRecord&)>& fill);
  // The whole file (header, one data block, sync marker).
  std::string finish();

 private:
  std::string schema_json_;
  std::vector<std::pair<std::string, std::string>> metadata_;
  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
  avro_value_t value_{};
  std::string block_;
  int64_t count_ = 0;
};

// Read access to one decoded record; nested fields by dotted path ("data_file.file_path").
class AvroView {
 public:
  explicit AvroView(avro_value_t* value) : value_(value) {}
  bool has(const std::string& name) const;
  int64_t get_long(const std::string& name) const;  // int or long
  std::string get_string(const std::string& name) const;
  std::optional<int64_t> get_optional_long(const std::string& name) const;

 private:
  avro_value_t field(const std::string& name) const;
  avro_value_t* value_;
};

struct AvroFileContents {
  std::map<std::string, std::string> metadata;
};

// Decodes every record of an Avro container file (any codec avro-c supports: null,
// deflate, snappy, lzma); returns the file metadata.
AvroFileContents read_avro_file(const std::string& bytes, const std::function<void(const AvroView&)>& on_record);

}  // namespace datalab::iceberg
