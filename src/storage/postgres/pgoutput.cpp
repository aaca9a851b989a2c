#include "storage/postgres/pgoutput.h"

#include <fmt/format.h>

#include "core/error.h"
#include "storage/postgres/binary_words.h"

namespace datalab::pgoutput {

namespace {

// Reads one message front to back; running past its end is a ServiceError naming the message.
class Reader {
 public:
  Reader(std::string_view data, char tag) : data_(data), tag_(tag) {}

  uint8_t byte() { return static_cast<uint8_t>(*take(1)); }
  uint16_t u16() { return pg_binary::be16(take(2)); }
  uint32_t u32() { return pg_binary::be32(take(4)); }
  uint64_t u64() { return pg_binary::be64(take(8)); }
  std::string string() {  // NUL-terminated
    const auto end = data_.find('\0', at_);
    if (end == std::string_view::npos) fail("a name without its terminating NUL");
    std::string text(data_.substr(at_, end - at_));
    at_ = end + 1;
    return text;
  }
  std::string bytes(std::size_t n) { return std::string(take(n), n); }
  int64_t timestamp_us() { return static_cast<int64_t>(u64()) + pg_binary::kEpochMicros; }

  Tuple tuple() {
    Tuple row(u16());
    for (auto& value : row) {
      const char kind = static_cast<char>(byte());
      switch (kind) {
        case 'n': value.kind = Value::Kind::null; break;
        case 'u': value.kind = Value::Kind::unchanged; break;
        case 't':
          value.kind = Value::Kind::text;
          value.text = bytes(u32());
          break;
        default: fail(fmt::format("a column of kind '{}' (expected n, u or t: binary values are not asked for)", kind));
      }
    }
    return row;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw ServiceError(fmt::format("pgoutput message '{}' ({} bytes) is malformed at byte {}: {}", tag_, data_.size(),
                                   at_, what));
  }

 private:
  const char* take(std::size_t n) {
    if (data_.size() - at_ < n) fail(fmt::format("{} more bytes expected", n));
    const char* p = data_.data() + at_;
    at_ += n;
    return p;
  }
  std::string_view data_;
  char tag_;
  std::size_t at_ = 1;  // after the tag
};

}  // namespace

Message decode(std::string_view payload) {
  if (payload.empty()) throw ServiceError("pgoutput: an empty message");
  const char tag = payload[0];
  Reader in(payload, tag);
  switch (tag) {
    case 'B': {
      Begin m;
      m.final_lsn = in.u64();
      m.commit_time_us = in.timestamp_us();
      m.xid = in.u32();
      return m;
    }
    case 'C': {
      Commit m;
      in.byte();  // flags, unused
      m.commit_lsn = in.u64();
      m.end_lsn = in.u64();
      m.commit_time_us = in.timestamp_us();
      return m;
    }
    case 'R': {
      Relation m;
      m.oid = in.u32();
      m.schema = in.string();
      m.name = in.string();
      m.replica_identity = static_cast<char>(in.byte());
      m.columns.resize(in.u16());
      for (auto& column : m.columns) {
        column.key = (in.byte() & 1) != 0;
        column.name = in.string();
        column.type_oid = in.u32();
        column.type_modifier = static_cast<int32_t>(in.u32());
      }
      return m;
    }
    case 'I': {
      Insert m;
      m.relation = in.u32();
      if (in.byte() != 'N') in.fail("an INSERT without its new tuple");
      m.row = in.tuple();
      return m;
    }
    case 'U': {
      Update m;
      m.relation = in.u32();
      char part = static_cast<char>(in.byte());
      if (part == 'K' || part == 'O') {
        m.old_key_only = part == 'K';
        m.old = in.tuple();
        part = static_cast<char>(in.byte());
      }
      if (part != 'N') in.fail("an UPDATE without its new tuple");
      m.row = in.tuple();
      return m;
    }
    case 'D': {
      Delete m;
      m.relation = in.u32();
      const char part = static_cast<char>(in.byte());
      if (part != 'K' && part != 'O') in.fail("a DELETE without its old key or row");
      m.key_only = part == 'K';
      m.old = in.tuple();
      return m;
    }
    case 'T': {
      Truncate m;
      m.relations.resize(in.u32());
      const uint8_t options = in.byte();
      m.cascade = (options & 1) != 0;
      m.restart_identity = (options & 2) != 0;
      for (auto& oid : m.relations) oid = in.u32();
      return m;
    }
    case 'O': case 'Y': case 'M': return Other{tag};
    default:
      throw ServiceError(fmt::format("pgoutput: unknown message '{}' (a newer protocol than version 1?)", tag));
  }
}

}  // namespace datalab::pgoutput
