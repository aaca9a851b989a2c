#include "modules/kafka_pipeline/flight_message.h"

#include <algorithm>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/sha.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/dates.h"
#include "core/json_text.h"
#include "core/utf8.h"
#include "storage/postgres/copy_binary_encoder.h"

namespace datalab::kafka_pipeline {

namespace {

using nlohmann::json;
using JsonValue = rapidjson::Value;

bool digits(std::string_view text, std::size_t at, std::size_t count, int& value) {
  if (at + count > text.size()) return false;
  value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  return true;
}

const char* type_name(const JsonValue& value) {
  if (value.IsNull()) return "null";
  if (value.IsBool()) return "boolean";
  if (value.IsInt64() || value.IsUint64()) return "integer";
  if (value.IsNumber()) return "number";
  if (value.IsString()) return "string";
  if (value.IsArray()) return "array";
  return "object";
}

std::string_view view(const JsonValue& text) { return {text.GetString(), text.GetStringLength()}; }

// The value as JSON text (for quoting it in a reason).
std::string json_text(const JsonValue& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

// Characters, not bytes: VARCHAR(n) limits characters.
std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string shown(std::string_view text) {
  return text.size() > 40 ? std::string(text.substr(0, 37)) + "..." : std::string(text);
}

std::string base64(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == data.size()) {
    const uint32_t n = uint8_t(data[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    const uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// The longest prefix of text no longer than max bytes that does not split a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

bool is_utf8(std::string_view text) {
  try {
    (void)json(std::string(text)).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

struct Rejected {
  std::string reason;
};

std::string json_quoted(std::string_view text) {
  std::string out;
  append_json_string(out, shown(text));
  return out;
}

// The first key an object has twice (JSON leaves duplicates undefined; RapidJSON keeps them
// all and a lookup would silently take one). Sorting makes a hostile object of many keys cheap.
std::optional<std::string_view> duplicate_key(const JsonValue& object) {
  const auto members = object.GetObject();
  const auto n = static_cast<std::size_t>(members.MemberCount());
  if (n <= 32) {
    for (auto a = members.MemberBegin(); a != members.MemberEnd(); ++a) {
      for (auto b = members.MemberBegin(); b != a; ++b) {
        if (view(a->name) == view(b->name)) return view(a->name);
      }
    }
    return std::nullopt;
  }
  std::vector<std::string_view> names;
  names.reserve(n);
  for (const auto& member : members) names.push_back(view(member.name));
  std::sort(names.begin(), names.end());
  const auto same = std::adjacent_find(names.begin(), names.end());
  if (same != names.end()) return *same;
  return std::nullopt;
}

// The fields of a flight message's data object, by kFlightColumns position.
using FlightFields = std::array<const JsonValue*, kFlightColumns.size()>;

int64_t integer_field(const FlightFields& data, std::size_t column, int64_t max) {
  const auto name = kFlightColumns[column].name;
  const JsonValue& value = *data[column];
  if (value.IsUint64() && !value.IsInt64()) {  // above int64's range
    throw Rejected{fmt::format("data.{} is too large (got {})", name, value.GetUint64())};
  }
  if (!value.IsInt64()) throw Rejected{fmt::format("data.{} must be an integer (got {})", name, type_name(value))};
  const int64_t n = value.GetInt64();
  if (n < 0) throw Rejected{fmt::format("data.{} must not be negative (got {})", name, n)};
  if (n > max) throw Rejected{fmt::format("data.{} is too large (got {})", name, n)};
  return n;
}

std::string text_field(const FlightFields& data, std::size_t index) {
  const auto& column = kFlightColumns[index];
  const JsonValue& value = *data[index];
  if (!value.IsString()) throw Rejected{fmt::format("data.{} must be a string (got {})", column.name, type_name(value))};
  const std::string_view text = view(value);
  if (column.kind == FlightField::Airport) {
    const bool iata = text.size() == 3 && std::all_of(text.begin(), text.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (!iata) throw Rejected{fmt::format("data.{} must be a three-letter IATA code (got '{}')", column.name, shown(text))};
    return std::string(text);
  }
  if (text.find_first_not_of(" \t") == std::string_view::npos) throw Rejected{fmt::format("data.{} is empty", column.name)};
  if (text.find('\0') != std::string_view::npos) throw Rejected{fmt::format("data.{} contains a NUL character", column.name)};
  if (utf8_length(text) > static_cast<std::size_t>(column.max_length)) {
    throw Rejected{fmt::format("data.{} is longer than {} characters", column.name, column.max_length)};
  }
  return std::string(text);
}

std::size_t column_index(std::string_view name) {
  for (std::size_t i = 0; i < kFlightColumns.size(); ++i) {
    if (kFlightColumns[i].name == name) return i;
  }
  return kFlightColumns.size();
}

UploadRow check_flight(const JsonValue& object) {
  FlightFields data{};
  for (const auto& field : object.GetObject()) {
    if (const auto i = column_index(view(field.name)); i < data.size()) data[i] = &field.value;
  }
  // After the lookup: a message of known fields (the usual case) only pays the check below.
  if (const auto duplicate = duplicate_key(object)) {
    throw Rejected{fmt::format("duplicate key {} in data", json_quoted(*duplicate))};
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (!data[i]) throw Rejected{fmt::format("missing field data.{}", kFlightColumns[i].name)};
  }
  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  UploadRow row;
  row.flight_id = integer_field(data, 0, std::numeric_limits<int64_t>::max());
  row.airline = text_field(data, 1);
  row.flight_number = text_field(data, 2);
  row.origin = text_field(data, 3);
  row.destination = text_field(data, 4);
  if (row.origin == row.destination) throw Rejected{"data.origin and data.destination are the same airport"};
  std::array<int64_t, 2> times{};
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& column = kFlightColumns[5 + i];
    const JsonValue& value = *data[5 + i];
    if (!value.IsString()) throw Rejected{fmt::format("data.{} must be a string (got {})", column.name, type_name(value))};
    const auto text = view(value);
    const auto parsed = parse_zoned_timestamp(text);
    if (!parsed) {
      throw Rejected{fmt::format("data.{} must be an ISO 8601 time with a zone (got '{}')", column.name, shown(text))};
    }
    times[i] = *parsed;
  }
  row.departure_micros = times[0];
  row.arrival_micros = times[1];
  if (times[1] <= times[0]) throw Rejected{"data.arrival_time must be after data.departure_time"};
  row.duration_minutes = static_cast<int32_t>(integer_field(data, 7, kInt32Max));
  row.aircraft_type = text_field(data, 8);
  row.status = text_field(data, 9);
  // (seats, booked) column pairs: economy, business, first class.
  static constexpr std::array<std::pair<std::size_t, std::size_t>, 3> kClasses{{{10, 13}, {11, 14}, {12, 15}}};
  for (const auto& [seats_column, booked_column] : kClasses) {
    const int64_t seats = integer_field(data, seats_column, kInt32Max);
    const int64_t booked = integer_field(data, booked_column, kInt32Max);
    if (booked > seats) {
      throw Rejected{fmt::format("data.{} ({}) exceeds data.{} ({})", kFlightColumns[booked_column].name, booked,
                                 kFlightColumns[seats_column].name, seats)};
    }
  }
  return row;
}

}  // namespace

void append_flight_message(std::string& out, const FlightTextRow& row) {
  out += R"({"schema":")";
  out += kSchemaVersion;
  out += R"(","data":{)";
  for (std::size_t i = 0; i < kFlightColumns.size(); ++i) {
    const auto& column = kFlightColumns[i];
    if (i) out += ',';
    out += '"';
    out += column.name;
    out += "\":";
    if (!row[i]) {
      out += "null";
    } else if (column.kind == FlightField::Integer) {
      out += *row[i];  // PostgreSQL's integer text is valid JSON
    } else if (column.kind == FlightField::Timestamp) {
      append_json_string(out, iso_from_pg_timestamp(*row[i]));
    } else {
      append_json_string(out, *row[i]);
    }
  }
  out += "}}";
}

Verdict validate_flight_message(std::string_view value) {
  if (value.empty()) return {std::nullopt, "empty message"};
  // RapidJSON (UTF-8 checked): an order of magnitude faster than building an nlohmann tree.
  // Its byte-by-byte UTF-8 check was a third of the consumer's time; an ASCII message (most
  // are) cannot fail it, so only the others are parsed with it.
  rapidjson::Document message;
  if (is_ascii(value)) {
    message.Parse(value.data(), value.size());
  } else {
    message.Parse<rapidjson::kParseValidateEncodingFlag>(value.data(), value.size());
  }
  if (message.HasParseError()) {
    return {std::nullopt, fmt::format("invalid JSON: {} (at byte {})", rapidjson::GetParseError_En(message.GetParseError()),
                                      message.GetErrorOffset())};
  }
  try {
    if (!message.IsObject()) throw Rejected{fmt::format("message must be a JSON object (got {})", type_name(message))};
    if (const auto duplicate = duplicate_key(message)) {
      throw Rejected{fmt::format("duplicate key {}", json_quoted(*duplicate))};
    }
    const JsonValue *schema = nullptr, *data = nullptr;
    for (const auto& field : message.GetObject()) {
      if (view(field.name) == "schema") schema = &field.value;
      else if (view(field.name) == "data") data = &field.value;
    }
    if (!schema) throw Rejected{"missing field schema"};
    if (!schema->IsString() || view(*schema) != kSchemaVersion) {
      throw Rejected{fmt::format("unsupported schema version {} (expected \"{}\")", shown(json_text(*schema)),
                                 kSchemaVersion)};
    }
    if (!data) throw Rejected{"missing field data"};
    if (!data->IsObject()) throw Rejected{fmt::format("data must be a JSON object (got {})", type_name(*data))};
    return {check_flight(*data), {}};
  } catch (const Rejected& rejected) {
    return {std::nullopt, rejected.reason};
  }
}

void append_upload_copy_row(std::string& out, const UploadRow& row) {
  CopyBinaryTuple(out, static_cast<int16_t>(kUploadColumns.size()))
      .int64(row.flight_id)
      .text(row.airline)
      .text(row.flight_number)
      .text(row.origin)
      .text(row.destination)
      .timestamp_micros(row.departure_micros)
      .timestamp_micros(row.arrival_micros)
      .int32(row.duration_minutes)
      .text(row.aircraft_type)
      .text(row.status);
}

namespace {

std::optional<std::string> unbase64(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') break;
    else return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

// The original's `name` ("key" or "value") as the record carries it: text, or base64 when
// it was not UTF-8; nullopt when it was cut (`<name>_truncated`) or is missing.
std::optional<std::string> carried(const json& original, const std::string& name) {
  if (original.value(name + "_truncated", false)) return std::nullopt;
  if (const auto it = original.find(name); it != original.end() && it->is_string()) return it->get<std::string>();
  if (const auto it = original.find(name + "_base64"); it != original.end() && it->is_string()) {
    return unbase64(it->get<std::string>());
  }
  return std::nullopt;
}

}  // namespace

std::optional<DeadLetterRecord> parse_dead_letter_value(std::string_view value, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<DeadLetterRecord> {
    if (error) *error = why;
    return std::nullopt;
  };
  const json record = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!record.is_object()) return fail("not a JSON object");
  const auto reason = record.find("reason");
  const auto original = record.find("original");
  if (reason == record.end() || !reason->is_string() || original == record.end() || !original->is_object()) {
    return fail("no reason and original");
  }
  DeadLetterRecord out;
  out.reason = reason->get<std::string>();
  out.topic = original->value("topic", "");
  out.partition = original->value("partition", -1);
  out.offset = original->value("offset", int64_t{-1});
  out.value_bytes = original->value("value_bytes", int64_t{0});
  out.value_sha256 = original->value("value_sha256", "");
  const auto key = original->find("key");
  out.has_key = (key != original->end() && !key->is_null()) || original->contains("key_base64");
  if (out.has_key) out.key = carried(*original, "key");
  out.value = carried(*original, "value");
  if (out.topic.empty() || out.partition < 0 || out.offset < 0) return fail("no original topic, partition and offset");
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string hex;
  hex.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char byte : digest) hex += fmt::format("{:02x}", byte);
  return hex;
}

std::string_view dead_letter_key(std::string_view key) { return utf8_prefix(key, kDeadLetterKeptKeyBytes); }

std::string dead_letter_value(std::string_view reason, std::string_view topic, int32_t partition, int64_t offset,
                              std::optional<std::string_view> key, std::string_view value, std::size_t max_bytes,
                              bool* truncated) {
  // Text when it is UTF-8 (JSON can carry it), base64 otherwise; the prefix kept is cut so
  // that it stays UTF-8 (a whole value that is not UTF-8 stays base64 in every case).
  auto carry = [](json& original, const std::string& name, std::string_view bytes, std::size_t keep) {
    const bool text = is_utf8(bytes);
    const std::string_view kept = text ? utf8_prefix(bytes, keep) : bytes.substr(0, std::min(keep, bytes.size()));
    if (text) {
      original[name] = std::string(kept);
    } else {
      original[name + "_base64"] = base64(kept);
    }
    return kept.size() < bytes.size();
  };
  auto build = [&](std::size_t keep_value) {
    json original = {{"topic", topic}, {"partition", partition}, {"offset", offset}};
    if (!key) {
      original["key"] = nullptr;
    } else {
      if (!is_utf8(*key)) original["key"] = nullptr;  // carried as key_base64
      if (carry(original, "key", *key, kDeadLetterKeptKeyBytes)) {
        original["key_truncated"] = true;
        original["key_bytes"] = key->size();
        original["key_sha256"] = sha256_hex(*key);
      }
    }
    original["value_truncated"] = carry(original, "value", value, keep_value);
    original["value_bytes"] = value.size();
    original["value_sha256"] = sha256_hex(value);
    return json{{"reason", reason}, {"original", std::move(original)}}.dump();
  };
  std::string whole = build(value.size());
  const bool cut = whole.size() > max_bytes;
  if (truncated) *truncated = cut;
  if (!cut) return whole;
  // Too large to carry whole: keep a prefix that fits even when every byte needs escaping.
  return build(std::min(kDeadLetterKeptValueBytes, max_bytes / 8));
}

std::optional<int64_t> parse_zoned_timestamp(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !digits(text, 0, 4, year) || text[4] != '-' || !digits(text, 5, 2, month) ||
      text[7] != '-' || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != ' ') ||
      !digits(text, 11, 2, hour) || text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  const auto date = parse_iso_date(text.substr(0, 10));
  if (!date || year < 1 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  std::size_t at = 19;
  int64_t micros = 0;
  if (at < text.size() && text[at] == '.') {
    std::size_t n = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++n) {
      if (n < 6) micros = micros * 10 + (text[at] - '0');
    }
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n) micros *= 10;
  }
  if (at >= text.size()) return std::nullopt;  // a zone is required
  int offset_minutes = 0;
  if (text[at] == 'Z' || text[at] == 'z') {
    ++at;
  } else if (text[at] == '+' || text[at] == '-') {
    const int sign = text[at] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!digits(text, at + 1, 2, oh)) return std::nullopt;
    at += 3;
    if (at < text.size()) {
      if (text[at] == ':') ++at;
      if (!digits(text, at, 2, om)) return std::nullopt;
      at += 2;
    }
    if (oh > 18 || om > 59) return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  const int64_t seconds = int64_t{*date} * 86'400 + hour * 3'600 + minute * 60 + second - offset_minutes * 60;
  return seconds * 1'000'000 + micros;
}

std::string iso_from_pg_timestamp(std::string_view text) {
  std::string out(text);
  if (out.size() > 10 && out[10] == ' ') out[10] = 'T';
  const auto sign = out.find_last_of("+-");
  if (sign != std::string::npos && sign > 10 && out.size() - sign == 3) out += ":00";
  return out;
}

}  // namespace datalab::kafka_pipeline
