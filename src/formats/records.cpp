#include "formats/records.h"

#include <algorithm>
#include <fstream>
#include <istream>
#include <sstream>

#include <arrow/api.h>
#include <arrow/csv/api.h>
#include <arrow/io/memory.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/utf8.h"

namespace datalab {

std::vector<TextRecord> parse_csv_records(const std::string& text, const std::string& origin) {
  // Every column is read as text: validation, not type inference, decides what is valid.
  auto read_options = arrow::csv::ReadOptions::Defaults();
  read_options.use_threads = false;  // malformed lines are then reported in file order
  auto parse_options = arrow::csv::ParseOptions::Defaults();
  struct Malformed {
    int64_t line;
    std::string reason;
  };
  std::vector<Malformed> malformed;
  parse_options.invalid_row_handler = [&](const arrow::csv::InvalidRow& row) {
    malformed.push_back({row.number, fmt::format("line {}: expected {} fields, found {}", row.number,
                                                 row.expected_columns, row.actual_columns)});
    return arrow::csv::InvalidRowResult::Skip;
  };
  auto convert_options = arrow::csv::ConvertOptions::Defaults();
  convert_options.strings_can_be_null = false;
  const std::string header = text.substr(0, text.find('\n'));
  {
    auto probe = arrow::csv::TableReader::Make(arrow::io::default_io_context(),
                                               std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(header + "\n")),
                                               read_options, arrow::csv::ParseOptions::Defaults(), convert_options);
    if (!probe.ok()) throw Error(fmt::format("{}: {}", origin, probe.status().ToString()));
    auto header_table = (*probe)->Read();
    if (!header_table.ok()) throw Error(fmt::format("{}: cannot read the header line: {}", origin, header_table.status().message()));
    for (const auto& name : (*header_table)->ColumnNames()) convert_options.column_types[name] = arrow::utf8();
  }
  auto reader = arrow::csv::TableReader::Make(arrow::io::default_io_context(),
                                              std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(text)), read_options,
                                              parse_options, convert_options);
  if (!reader.ok()) throw Error(fmt::format("{}: {}", origin, reader.status().ToString()));
  auto table = (*reader)->Read();
  if (!table.ok()) throw Error(fmt::format("{}: {}", origin, table.status().message()));
  auto combined = (*table)->CombineChunks();
  std::vector<TextRecord> records((*table)->num_rows());
  for (int c = 0; c < (*table)->num_columns(); ++c) {
    const auto& name = (*table)->field(c)->name();
    auto column = std::static_pointer_cast<arrow::StringArray>((*combined)->column(c)->chunk(0));
    for (int64_t r = 0; r < column->length(); ++r) records[r][name] = std::string(column->GetView(r));
  }
  // Line n (the header is line 1) is record n - 2, as long as no value spans lines.
  for (const auto& bad : malformed) {
    const auto at = std::clamp<int64_t>(bad.line - 2, 0, static_cast<int64_t>(records.size()));
    records.insert(records.begin() + at, TextRecord{{kMalformedRowField, bad.reason}});
  }
  return records;
}


namespace {

// The stand-in for a byte b (0x80-0xFF) that is not UTF-8: U+10FF00 + b, as UTF-8.
std::string stand_in_for(unsigned char b) {
  const uint32_t cp = 0x10FF00u + b;
  return {static_cast<char>(0xF4), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
          static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
}

// The byte a stand-in at p (n bytes available) replaced, or -1 when p holds none.
int stood_in_byte(const unsigned char* p, std::size_t n) {
  if (n < 4 || p[0] != 0xF4 || p[1] != 0x8F || (p[2] != 0xBE && p[2] != 0xBF) || (p[3] & 0xC0) != 0x80) return -1;
  return static_cast<int>(((p[2] & 0x3F) << 6 | (p[3] & 0x3F)) & 0xFF);
}

}  // namespace

unsigned char input_byte_at(std::string_view text, std::size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data()) + at;
  const int b = stood_in_byte(p, text.size() - at);
  return b >= 0 ? static_cast<unsigned char>(b) : *p;
}

std::optional<std::size_t> invalid_utf8_at(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const std::size_t len = utf8_sequence_length(p + i, n - i);
    if (len == 0 || (len == 4 && stood_in_byte(p + i, n - i) >= 0)) return i;
    i += len;
  }
  return std::nullopt;
}

std::string printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size() && out.size() < max_bytes) {
    const auto bad = invalid_utf8_at(text.substr(i, std::min<std::size_t>(4, text.size() - i)));
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) {
      out += "\\0";
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (bad && *bad == 0) {
      const auto* p = reinterpret_cast<const unsigned char*>(text.data()) + i;
      const int b = stood_in_byte(p, text.size() - i);
      out += fmt::format("\\x{:02x}", b >= 0 ? b : c);
      i += b >= 0 ? 4 : 1;
    } else {
      const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      out.append(text.substr(i, len));
      i += len;
    }
  }
  if (i < text.size()) out += "...";
  return out;
}

namespace {

// Byte source over an istream with one byte of look-ahead and seeking back.
class ByteSource {
 public:
  explicit ByteSource(std::istream& in) : in_(in) { start_ = in_.tellg(); if (start_ < 0) start_ = 0; }
  int get() {
    if (pos_ == buf_.size() && !fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_++]);
  }
  int peek() {
    if (pos_ == buf_.size() && !fill()) return -1;
    return static_cast<unsigned char>(buf_[pos_]);
  }
  // Offset (from where reading began) of the next byte get() returns.
  std::size_t offset() const { return base_ + pos_; }
  void seek(std::size_t offset) {
    in_.clear();
    in_.seekg(start_ + static_cast<std::streamoff>(offset));
    if (!in_) throw Error("cannot seek back in the input");
    buf_.clear();
    pos_ = 0;
    base_ = offset;
  }

 private:
  bool fill() {
    base_ += buf_.size();
    buf_.resize(1 << 20);
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.resize(static_cast<std::size_t>(in_.gcount()));
    pos_ = 0;
    return !buf_.empty();
  }
  std::istream& in_;
  std::streamoff start_ = 0;
  std::string buf_;
  std::size_t pos_ = 0, base_ = 0;
};

struct CsvField {
  std::string text;
  std::size_t bytes = 0;  // its real length; text holds at most the limit
  bool quoted = false;
};

struct CsvRecord {
  std::vector<CsvField> fields;
  std::size_t first_line = 0, last_line = 0;
  // Where the first line break inside quotes was (the offset after it), when there was one.
  std::optional<std::size_t> quoted_break;
  std::optional<std::size_t> quote_line;  // line of the quote that opened it
  bool unterminated = false;              // the input ended inside quotes
  bool stray_close = false;               // a closing quote followed by more of the value
  bool any = false;                       // anything read at all
};

class CsvReader {
 public:
  CsvReader(ByteSource& src, std::size_t max_field) : src_(src), max_(max_field) {}
  std::size_t line() const { return line_; }
  void restart_at(std::size_t offset, std::size_t line) {
    src_.seek(offset);
    line_ = line;
  }
  // Reads one record; false at the end of the input.
  bool next(CsvRecord& r) {
    r = CsvRecord{};
    r.first_line = line_;
    CsvField field;
    bool in_quotes = false;
    auto append = [&](int c) {
      if (field.text.size() < max_ + 1) field.text.push_back(static_cast<char>(c));
      ++field.bytes;
    };
    for (;;) {
      const int c = src_.get();
      if (c == -1) {
        if (!r.any) return false;
        if (in_quotes) r.unterminated = true;
        r.fields.push_back(std::move(field));
        r.last_line = last_ == '\n' ? line_ - 1 : line_;
        return true;
      }
      r.any = true;
      last_ = c;
      if (in_quotes) {
        if (c == '"') {
          if (src_.peek() == '"') {
            src_.get();
            append('"');
          } else {
            in_quotes = false;
            const int next = src_.peek();
            if (next != ',' && next != '\n' && next != '\r' && next != -1) r.stray_close = true;
          }
        } else {
          if (c == '\n') {
            if (!r.quoted_break) r.quoted_break = src_.offset();
            ++line_;
          }
          append(c);
        }
        continue;
      }
      if (c == ',') {
        r.fields.push_back(std::move(field));
        field = CsvField{};
      } else if (c == '\n' || (c == '\r' && src_.peek() == '\n')) {
        if (c == '\r') src_.get();
        r.fields.push_back(std::move(field));
        r.last_line = line_;
        ++line_;
        return true;
      } else if (c == '"' && field.bytes == 0 && !field.quoted) {
        in_quotes = true;
        field.quoted = true;
        if (!r.quote_line) r.quote_line = line_;
      } else {
        append(c);
      }
    }
  }

 private:
  ByteSource& src_;
  std::size_t max_;
  std::size_t line_ = 1;
  int last_ = -1;
};

bool blank(const CsvRecord& r) {
  return r.fields.size() == 1 && r.fields[0].bytes == 0 && !r.fields[0].quoted;
}

RecordStreamSummary stream_csv(ByteSource& src, const std::string& origin, const RecordSink& sink,
                               const RecordReadOptions& options) {
  RecordStreamSummary summary;
  CsvReader reader(src, options.max_field_bytes);
  CsvRecord r;
  // The header: the first line that is not blank.
  std::vector<std::string> names;
  for (;;) {
    if (!reader.next(r)) {
      summary.empty = true;
      return summary;
    }
    if (!blank(r)) break;
  }
  if (r.unterminated) throw Error(fmt::format("{}: the header line {} has an unterminated quote", origin, r.first_line));
  for (auto& f : r.fields) {
    if (f.bytes > options.max_field_bytes) {
      throw Error(fmt::format("{}: a header field is {} bytes, more than the {} allowed", origin, f.bytes,
                              options.max_field_bytes));
    }
    names.push_back(std::move(f.text));
  }
  if (!names.empty() && names[0].rfind("\xEF\xBB\xBF", 0) == 0) names[0].erase(0, 3);  // UTF-8 BOM
  auto name_of = [&](std::size_t i) {
    return i < names.size() ? fmt::format("'{}'", printable(names[i])) : fmt::format("{}", i + 1);
  };
  auto emit = [&](TextRecord&& record) {
    ++summary.records;
    sink(std::move(record));
  };
  while (reader.next(r)) {
    if (blank(r)) continue;
    const bool wrong_count = r.fields.size() != names.size();
    if (r.unterminated || ((wrong_count || r.stray_close) && r.quoted_break)) {
      // An unbalanced quote: the quoted value ran past its line, over the lines after it
      // (to the end of the input, or until a later quote closed it with the wrong field
      // count). Reject the line it opened on and read the swallowed lines again as rows.
      const std::size_t swallowed = r.last_line - r.first_line;
      std::string reason = fmt::format("line {}: unterminated quote starting at line {}", r.first_line,
                                       r.quote_line.value_or(r.first_line));
      if (swallowed > 0) {
        reason += fmt::format(" (it ran over {} more line{}, {}–{}{}; they are read as rows of their own)",
                              swallowed, swallowed == 1 ? "" : "s", r.first_line + 1, r.last_line,
                              r.unterminated ? ", to the end of the input" : "");
      }
      emit(TextRecord{{kMalformedRowField, reason}});
      if (r.quoted_break) reader.restart_at(*r.quoted_break, r.first_line + 1);
      continue;
    }
    if (wrong_count) {
      emit(TextRecord{{kMalformedRowField, fmt::format("line {}: expected {} fields, found {}", r.first_line,
                                                       names.size(), r.fields.size())}});
      continue;
    }
    std::string too_long;
    for (std::size_t i = 0; i < r.fields.size() && too_long.empty(); ++i) {
      if (r.fields[i].bytes > options.max_field_bytes) {
        too_long = fmt::format("line {}: field {} is {} bytes, more than the {} allowed", r.first_line, name_of(i),
                               r.fields[i].bytes, options.max_field_bytes);
      }
    }
    if (!too_long.empty()) {
      emit(TextRecord{{kMalformedRowField, too_long}});
      continue;
    }
    TextRecord record;
    for (std::size_t i = 0; i < names.size(); ++i) record[names[i]] = std::move(r.fields[i].text);
    emit(std::move(record));
  }
  summary.header_only = summary.records == 0;
  return summary;
}

// SAX handler: one record per object of the top-level array (or the single top-level object).
class JsonRecords : public nlohmann::json_sax<nlohmann::json> {
 public:
  JsonRecords(const std::string& origin, const RecordSink& sink, std::size_t max_field)
      : origin_(origin), sink_(sink), max_(max_field) {}
  std::size_t records = 0;
  bool top_array = false;

  bool null() override { return scalar("null", std::nullopt); }
  bool boolean(bool v) override { return scalar("boolean", v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return scalar("number", std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return scalar("number", std::to_string(v)); }
  bool number_float(number_float_t, const string_t& raw) override { return scalar("number", raw); }
  bool string(string_t& v) override { return scalar("", std::move(v)); }
  bool binary(binary_t&) override { return scalar("binary", ""); }
  bool start_object(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(false); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    if (depth_ == record_depth_ + 1 && in_record_) key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    throw Error(fmt::format("{}: not valid JSON at byte {}: {}", origin_, position, e.what()));
  }

 private:
  void emit(TextRecord&& r) {
    ++records;
    sink_(std::move(r));
  }
  // A value inside a record (or a stray value in the top-level array).
  bool scalar(const char* type, std::optional<std::string> value) {
    if (in_record_ && depth_ == record_depth_ + 1) {
      if (!value) return true;  // null is a missing value
      if (value->size() > max_) {
        too_long_ = fmt::format("element {}: field '{}' is {} bytes, more than the {} allowed", records + 1,
                                printable(key_), value->size(), max_);
      }
      if (*type) record_[kJsonTypePrefix + key_] = type;
      record_[key_] = std::move(*value);
    } else if (!in_record_ && depth_ == (top_array ? 1u : 0u)) {
      not_object(type[0] ? type : "string");
    }
    return true;
  }
  void not_object(const std::string& type) {
    if (!top_array && depth_ == 0) throw Error(fmt::format("{}: expected a JSON array of objects", origin_));
    emit(TextRecord{{kMalformedRowField, fmt::format("element {} is a JSON {}, not an object", records + 1, type)}});
  }
  bool open(bool object) {
    if (depth_ == 0 && !object) {
      top_array = true;
    } else if (!in_record_ && depth_ == (top_array ? 1u : 0u)) {
      if (object) {
        in_record_ = true;
        record_depth_ = depth_;
        record_.clear();
        too_long_.clear();
      } else {
        not_object("array");
        skip_from_ = depth_;
      }
    } else if (in_record_ && depth_ == record_depth_ + 1) {
      record_[kJsonTypePrefix + key_] = object ? "object" : "array";
      record_[key_] = object ? "{...}" : "[...]";
    }
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    if (in_record_ && depth_ == record_depth_) {
      in_record_ = false;
      if (!too_long_.empty()) {
        emit(TextRecord{{kMalformedRowField, too_long_}});
      } else {
        emit(std::move(record_));
      }
      record_ = TextRecord{};
    }
    return true;
  }
  const std::string& origin_;
  const RecordSink& sink_;
  std::size_t max_;
  std::size_t depth_ = 0, record_depth_ = 0, skip_from_ = 0;
  bool in_record_ = false;
  std::string key_, too_long_;
  TextRecord record_;
};

// Passes UTF-8 through and puts a stand-in (see records.h) for every byte that is not.
class Utf8StandIns : public std::streambuf {
 public:
  explicit Utf8StandIns(std::istream& in) : in_(in) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    out_.clear();
    while (out_.empty()) {
      char chunk[1 << 16];
      in_.read(chunk, sizeof chunk);
      const auto got = static_cast<std::size_t>(in_.gcount());
      const bool end = got == 0;
      raw_.append(chunk, got);
      if (end && raw_.empty()) return traits_type::eof();
      std::size_t i = 0;
      const auto* p = reinterpret_cast<const unsigned char*>(raw_.data());
      while (i < raw_.size()) {
        const unsigned char c = p[i];
        const std::size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i + len > raw_.size() && !end) break;  // the rest of this character comes next
        const std::string_view piece(raw_.data() + i, std::min(len, raw_.size() - i));
        if (c < 0x80 || !invalid_utf8_at(piece)) {
          out_.append(piece);
          i += piece.size();
        } else {
          out_ += stand_in_for(c);
          ++i;
        }
      }
      raw_.erase(0, i);
      if (end && out_.empty()) return traits_type::eof();
    }
    setg(out_.data(), out_.data(), out_.data() + out_.size());
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::istream& in_;
  std::string raw_, out_;
};

RecordStreamSummary stream_json(std::istream& in, const std::string& origin, const RecordSink& sink,
                                const RecordReadOptions& options) {
  JsonRecords handler(origin, sink, options.max_field_bytes);
  Utf8StandIns repaired_buffer(in);
  std::istream repaired(&repaired_buffer);
  nlohmann::json::sax_parse(repaired, &handler);
  RecordStreamSummary summary;
  summary.json = true;
  summary.records = handler.records;
  return summary;
}

}  // namespace

RecordStreamSummary stream_records(std::istream& in, const std::string& origin, const RecordSink& sink,
                                   const RecordReadOptions& options) {
  ByteSource src(in);
  // The first byte that is not blank tells JSON from CSV.
  int c;
  while ((c = src.peek()) != -1 && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) src.get();
  if (c == -1) {
    RecordStreamSummary summary;
    summary.empty = true;
    return summary;
  }
  if (c == '[' || c == '{') {
    src.seek(0);
    return stream_json(in, origin, sink, options);
  }
  src.seek(0);
  return stream_csv(src, origin, sink, options);
}

RecordStreamSummary stream_records_file(const std::string& path, const RecordSink& sink,
                                        const RecordReadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read '{}'", path));
  return stream_records(in, path, sink, options);
}

std::vector<TextRecord> read_records(const std::string& text, const std::string& origin,
                                     const RecordReadOptions& options) {
  std::istringstream in(text);
  std::vector<TextRecord> out;
  stream_records(in, origin, [&](TextRecord&& r) { out.push_back(std::move(r)); }, options);
  return out;
}

std::vector<TextRecord> read_records_file(const std::string& path) {
  std::vector<TextRecord> out;
  stream_records_file(path, [&](TextRecord&& r) { out.push_back(std::move(r)); });
  return out;
}

std::vector<TextRecord> parse_json_records(const std::string& text, const std::string& origin) {
  std::istringstream in(text);
  std::vector<TextRecord> out;
  auto sink = [&](TextRecord&& r) { out.push_back(std::move(r)); };
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || (text[first] != '[' && text[first] != '{')) {
    throw Error(fmt::format("{}: expected a JSON array of objects", origin));
  }
  stream_json(in, origin, sink, RecordReadOptions{});
  return out;
}

}  // namespace datalab
