#include "transfer/reject_file.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/error.h"
#include "core/json_text.h"
#include "transfer/json_rows.h"

namespace datalab::transfer {

namespace {
constexpr std::size_t kKeptReasons = 10;
}

RejectFile::RejectFile(std::string path) : path_(std::move(path)), partial_(path_ + ".partial") {
  file_ = std::fopen(partial_.c_str(), "w");
  if (!file_) throw ConfigError(fmt::format("--reject {}: cannot write '{}': {}", path_, partial_, std::strerror(errno)));
}

RejectFile::~RejectFile() {
  if (!file_) return;
  std::fclose(file_);
  std::remove(partial_.c_str());  // the copy did not commit
}

void RejectFile::reject(const arrow::RecordBatch& batch, int64_t row, const std::string& reason) {
  JsonRowEncoder encoder(*batch.schema());
  encoder.start(batch);
  std::string row_json;
  encoder.append_row(row, row_json);
  std::string line = "{\"reason\":";
  append_json_string(line, reason);
  line += ",\"row\":" + row_json + "}\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
    throw Error(fmt::format("--reject {}: cannot write: {}", partial_, std::strerror(errno)));
  }
  ++count_;
  if (reasons_.size() < kKeptReasons) {
    constexpr std::size_t kShown = 160;
    if (row_json.size() > kShown) {
      std::size_t cut = kShown;
      while (cut > 0 && (static_cast<unsigned char>(row_json[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
      row_json = row_json.substr(0, cut) + "...";
    }
    reasons_.push_back(fmt::format("{}: {}", row_json, reason));
  }
}

void RejectFile::commit() {
  const bool flushed = std::fflush(file_) == 0;
  std::fclose(file_);
  file_ = nullptr;
  if (!flushed || std::rename(partial_.c_str(), path_.c_str()) != 0) {
    std::remove(partial_.c_str());
    throw Error(fmt::format("--reject {}: cannot store the rejected rows: {}", path_, std::strerror(errno)));
  }
}

}  // namespace datalab::transfer
