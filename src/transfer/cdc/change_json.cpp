#include "transfer/cdc/change_json.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace datalab::cdc {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

enum class Shape { boolean, number, floating, text };

Shape shape_of(uint32_t type_oid) {
  switch (type_oid) {
    case 16: return Shape::boolean;                                    // bool
    case 20: case 21: case 23: case 26: case 1700: return Shape::number;  // int8 int2 int4 oid numeric
    case 700: case 701: return Shape::floating;                       // float4 float8
    default: return Shape::text;
  }
}

void write_value(JsonWriter& json, const pgoutput::Column& column, const pgoutput::Value& value) {
  using Kind = pgoutput::Value::Kind;
  if (value.kind == Kind::null) {
    json.Null();
    return;
  }
  if (value.kind == Kind::unchanged) {
    json.String(kUnavailableValue);
    return;
  }
  const std::string& text = value.text;
  switch (shape_of(column.type_oid)) {
    case Shape::boolean: json.Bool(text == "t"); return;
    case Shape::floating:
    case Shape::number:
      // NaN, Infinity, -Infinity (floats and, since 14, numerics) are no JSON numbers.
      if (text.empty() || (!std::isdigit(static_cast<unsigned char>(text.back())))) break;
      json.RawValue(text.data(), text.size(), rapidjson::kNumberType);
      return;
    case Shape::text: break;
  }
  json.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void write_row(JsonWriter& json, const TableShape& table, const pgoutput::Tuple* row) {
  if (!row) {
    json.Null();
    return;
  }
  json.StartObject();
  const std::size_t columns = std::min(row->size(), table.columns.size());
  for (std::size_t c = 0; c < columns; ++c) {
    json.Key(table.columns[c].name.c_str());
    write_value(json, table.columns[c], (*row)[c]);
  }
  json.EndObject();
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string change_value_json(const Change& change, const SourceNames& names) {
  rapidjson::StringBuffer buffer;
  JsonWriter json(buffer);
  json.StartObject();
  json.Key("before");
  write_row(json, *change.table, change.before);
  json.Key("after");
  write_row(json, *change.table, change.after);
  json.Key("source");
  json.StartObject();
  json.Key("version");
  json.String("datalab");
  json.Key("connector");
  json.String("postgresql");
  json.Key("name");
  json.String(names.topic_prefix.c_str());
  json.Key("ts_ms");
  json.Int64(change.commit_time_us / 1000);
  json.Key("snapshot");
  json.String(change.op == ChangeOp::snapshot ? "true" : "false");
  json.Key("db");
  json.String(names.database.c_str());
  json.Key("schema");
  json.String(change.table->schema.c_str());
  json.Key("table");
  json.String(change.table->name.c_str());
  json.Key("txId");
  json.Uint(change.xid);
  json.Key("lsn");
  json.Uint64(change.lsn);
  json.EndObject();
  json.Key("op");
  const char op[2] = {static_cast<char>(change.op), '\0'};
  json.String(op);
  json.Key("ts_ms");
  json.Int64(now_ms());
  json.Key("transaction");
  json.Null();
  json.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<std::string> change_key_json(const TableShape& table, const pgoutput::Tuple& row) {
  if (table.primary_key.empty()) return std::nullopt;
  rapidjson::StringBuffer buffer;
  JsonWriter json(buffer);
  json.StartObject();
  for (const int c : table.primary_key) {
    json.Key(table.columns[c].name.c_str());
    if (static_cast<std::size_t>(c) < row.size()) {
      write_value(json, table.columns[c], row[c]);
    } else {
      json.Null();
    }
  }
  json.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace datalab::cdc
