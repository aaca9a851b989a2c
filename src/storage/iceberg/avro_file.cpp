#include "storage/iceberg/avro_file.h"

#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab::iceberg {

namespace {

void check(int rc, const std::string& what) {
  if (rc != 0) throw Error(fmt::format("Avro: {}: {}", what, avro_strerror()));
}

// Avro's variable-length zig-zag long.
void put_long(std::string& out, int64_t v) {
  uint64_t n = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (n & ~uint64_t{0x7F}) {
    out.push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
}

void put_bytes(std::string& out, const std::string& bytes) {
  put_long(out, static_cast<int64_t>(bytes.size()));
  out += bytes;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = path.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(path.substr(start, dot - start));
  }
  parts.push_back(path.substr(start));
  return parts;
}

}  // namespace

avro_value_t AvroRecord::field(const std::string& path) {
  avro_value_t current = *value_;
  for (const auto& name : split_path(path)) {
    avro_value_t child;
    check(avro_value_get_by_name(&current, name.c_str(), &child, nullptr), "no field " + path);
    current = child;
  }
  return current;
}

void AvroRecord::set_int(const std::string& path, int32_t v) {
  auto f = field(path);
  check(avro_value_set_int(&f, v), "set " + path);
}
void AvroRecord::set_long(const std::string& path, int64_t v) {
  auto f = field(path);
  check(avro_value_set_long(&f, v), "set " + path);
}
void AvroRecord::set_string(const std::string& path, const std::string& v) {
  auto f = field(path);
  check(avro_value_set_string_len(&f, v.c_str(), v.size() + 1), "set " + path);
}
void AvroRecord::set_bool(const std::string& path, bool v) {
  auto f = field(path);
  check(avro_value_set_boolean(&f, v), "set " + path);
}
void AvroRecord::set_optional_long(const std::string& path, std::optional<int64_t> v) {
  auto f = field(path);
  avro_value_t branch;
  check(avro_value_set_branch(&f, v ? 1 : 0, &branch), "set " + path);
  if (v) {
    check(avro_value_set_long(&branch, *v), "set " + path);
  } else {
    check(avro_value_set_null(&branch), "set " + path);
  }
}
void AvroRecord::set_null(const std::string& path) {
  auto f = field(path);
  avro_value_t branch;
  check(avro_value_set_branch(&f, 0, &branch), "set " + path);
  check(avro_value_set_null(&branch), "set " + path);
}

namespace {

// Fills a ["null", array<record{key, value}>] union with one element per entry.
template <typename Entry, typename SetValue>
void set_map(avro_value_t field, const std::string& path, const std::vector<Entry>& entries, SetValue set_value) {
  avro_value_t array;
  check(avro_value_set_branch(&field, 1, &array), "set " + path);
  for (const auto& [key, value] : entries) {
    avro_value_t element, k, v;
    check(avro_value_append(&array, &element, nullptr), "append to " + path);
    check(avro_value_get_by_name(&element, "key", &k, nullptr), "key of " + path);
    check(avro_value_get_by_name(&element, "value", &v, nullptr), "value of " + path);
    check(avro_value_set_int(&k, key), "set key of " + path);
    check(set_value(v, value), "set value of " + path);
  }
}

}  // namespace

void AvroRecord::set_int_long_map(const std::string& path, const std::vector<std::pair<int32_t, int64_t>>& entries) {
  set_map(field(path), path, entries, [](avro_value_t& v, int64_t value) { return avro_value_set_long(&v, value); });
}

void AvroRecord::set_int_bytes_map(const std::string& path,
                                   const std::vector<std::pair<int32_t, std::string>>& entries) {
  set_map(field(path), path, entries, [](avro_value_t& v, const std::string& value) {
    return avro_value_set_bytes(&v, const_cast<char*>(value.data()), value.size());
  });
}

AvroFileWriter::AvroFileWriter(std::string schema_json, std::vector<std::pair<std::string, std::string>> metadata)
    : schema_json_(std::move(schema_json)), metadata_(std::move(metadata)) {
  check(avro_schema_from_json_length(schema_json_.c_str(), schema_json_.size(), &schema_), "parse schema");
  iface_ = avro_generic_class_from_schema(schema_);
  if (!iface_) throw Error(fmt::format("Avro: cannot make a value class: {}", avro_strerror()));
  check(avro_generic_value_new(iface_, &value_), "new value");
}

AvroFileWriter::~AvroFileWriter() {
  avro_value_decref(&value_);
  avro_value_iface_decref(iface_);
  avro_schema_decref(schema_);
}

void AvroFileWriter::append(const std::function<void(AvroRecord&)>& fill) {
  check(avro_value_reset(&value_), "reset value");
  AvroRecord record(&value_);
  fill(record);
  std::size_t size = 0;
  check(avro_value_sizeof(&value_, &size), "size record");
  const std::size_t at = block_.size();
  block_.resize(at + size);
  avro_writer_t writer = avro_writer_memory(block_.data() + at, static_cast<int64_t>(size));
  const int rc = avro_value_write(writer, &value_);
  avro_writer_free(writer);
  check(rc, "encode record");
  ++count_;
}

std::string AvroFileWriter::finish() {
  std::string out("Obj\x01", 4);
  put_long(out, static_cast<int64_t>(metadata_.size() + 2));
  put_bytes(out, "avro.schema");
  put_bytes(out, schema_json_);
  put_bytes(out, "avro.codec");
  put_bytes(out, "null");
  for (const auto& [key, value] : metadata_) {
    put_bytes(out, key);
    put_bytes(out, value);
  }
  put_long(out, 0);
  std::string sync(16, '\0');
  std::random_device device;
  for (auto& c : sync) c = static_cast<char>(device() & 0xFF);
  out += sync;
  if (count_ > 0) {
    put_long(out, count_);
    put_long(out, static_cast<int64_t>(block_.size()));
    out += block_;
    out += sync;
  }
  return out;
}

avro_value_t AvroView::field(const std::string& path) const {
  avro_value_t current = *value_;
  for (const auto& name : split_path(path)) {
    avro_value_t child;
    check(avro_value_get_by_name(&current, name.c_str(), &child, nullptr), "no field " + path);
    // Unwrap ["null", T] unions to their current branch.
    if (avro_value_get_type(&child) == AVRO_UNION) {
      avro_value_t branch;
      check(avro_value_get_current_branch(&child, &branch), "read " + path);
      child = branch;
    }
    current = child;
  }
  return current;
}

bool AvroView::has(const std::string& path) const {
  avro_value_t current = *value_;
  for (const auto& name : split_path(path)) {
    avro_value_t child;
    if (avro_value_get_by_name(&current, name.c_str(), &child, nullptr) != 0) return false;
    if (avro_value_get_type(&child) == AVRO_UNION) {
      avro_value_t branch;
      if (avro_value_get_current_branch(&child, &branch) != 0) return false;
      child = branch;
    }
    current = child;
  }
  return true;
}

int64_t AvroView::get_long(const std::string& name) const {
  auto f = field(name);
  if (avro_value_get_type(&f) == AVRO_INT32) {
    int32_t v = 0;
    check(avro_value_get_int(&f, &v), "read " + name);
    return v;
  }
  int64_t v = 0;
  check(avro_value_get_long(&f, &v), "read " + name);
  return v;
}

std::optional<int64_t> AvroView::get_optional_long(const std::string& name) const {
  if (!has(name)) return std::nullopt;
  auto f = field(name);
  if (avro_value_get_type(&f) == AVRO_NULL) return std::nullopt;
  return get_long(name);
}

std::string AvroView::get_string(const std::string& name) const {
  auto f = field(name);
  const char* text = nullptr;
  std::size_t size = 0;
  check(avro_value_get_string(&f, &text, &size), "read " + name);
  return std::string(text, size > 0 ? size - 1 : 0);  // avro-c counts the NUL
}

AvroFileContents read_avro_file(const std::string& bytes, const std::function<void(const AvroView&)>& on_record) {
  AvroFileContents contents;
  // Header metadata, read here (avro-c keeps only the schema and codec).
  std::size_t pos = 4;
  auto get_long = [&]() -> int64_t {
    uint64_t n = 0;
    int shift = 0;
    while (pos < bytes.size()) {
      const auto b = static_cast<uint8_t>(bytes[pos++]);
      n |= uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) return static_cast<int64_t>(n >> 1) ^ -static_cast<int64_t>(n & 1);
      shift += 7;
    }
    throw Error("Avro: truncated header");
  };
  auto get_bytes = [&]() {
    const int64_t n = get_long();
    if (n < 0 || pos + static_cast<std::size_t>(n) > bytes.size()) throw Error("Avro: truncated header");
    std::string s = bytes.substr(pos, static_cast<std::size_t>(n));
    pos += static_cast<std::size_t>(n);
    return s;
  };
  if (bytes.size() < 4 || bytes.compare(0, 4, std::string("Obj\x01", 4)) != 0) throw Error("Avro: not a container file");
  for (int64_t count; (count = get_long()) != 0;) {
    if (count < 0) {
      count = -count;
      get_long();  // block size in bytes
    }
    for (int64_t i = 0; i < count; ++i) {
      std::string key = get_bytes();
      contents.metadata[key] = get_bytes();
    }
  }

  FILE* file = fmemopen(const_cast<char*>(bytes.data()), bytes.size(), "rb");
  if (!file) throw Error("Avro: cannot open the file in memory");
  avro_file_reader_t reader;
  check(avro_file_reader_fp(file, "manifest", /*should_close=*/1, &reader), "open file");
  avro_schema_t schema = avro_file_reader_get_writer_schema(reader);
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  try {
    while (avro_file_reader_read_value(reader, &value) == 0) {
      on_record(AvroView(&value));
      avro_value_reset(&value);
    }
  } catch (...) {
    avro_value_decref(&value);
    avro_value_iface_decref(iface);
    avro_file_reader_close(reader);
    throw;
  }
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_file_reader_close(reader);
  return contents;
}

}  // namespace datalab::iceberg
