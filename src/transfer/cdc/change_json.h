#pragma once
// A change as the JSON Debezium's PostgreSQL connector writes with schemas disabled, so
// consumers of Debezium topics read datalab's unchanged:
//   key   {"id": 7}                                   (the primary key's columns)
//   value {"before": {…}|null, "after": {…}|null,
//          "source": {"version", "connector": "postgresql", "name", "ts_ms", "snapshot",
//                     "db", "schema", "table", "txId", "lsn"},
//          "op": "r"|"c"|"u"|"d"|"t", "ts_ms": …, "transaction": null}
// Values: booleans as true/false, integers, floats and numerics as JSON numbers with every
// digit the server printed (NaN and infinities as text), everything else as PostgreSQL's
// text output (timestamps ISO in UTC, dates, json, arrays, …); an unchanged TOASTed value the
// server did not send as Debezium's placeholder "__debezium_unavailable_value".
#include <optional>
#include <string>

#include "transfer/cdc/change.h"

namespace datalab::cdc {

struct SourceNames {
  std::string topic_prefix;  // Debezium's "name" (topic.prefix)
  std::string database;
};

std::string change_value_json(const Change& change, const SourceNames& names);
// nullopt when the table has no primary key (the message then has no key).
std::optional<std::string> change_key_json(const TableShape& table, const pgoutput::Tuple& row);

inline constexpr const char* kUnavailableValue = "__debezium_unavailable_value";

}  // namespace datalab::cdc
