#pragma once
// --reject FILE: the rows a target refused, one JSON object per line,
// {"reason": "...", "row": {...}} (the row as json_rows.h writes rows). The file appears
// only when the copy commits (written beside it, then renamed), so a failed or interrupted
// copy leaves the file of the last copy that committed, never one of rows not copied.
#include <cstdio>
#include <string>
#include <vector>

#include "transfer/batch_stream.h"

namespace datalab::transfer {

class RejectFile final : public RowRejects {
 public:
  explicit RejectFile(std::string path);
  ~RejectFile() override;
  RejectFile(const RejectFile&) = delete;
  RejectFile& operator=(const RejectFile&) = delete;

  void reject(const arrow::RecordBatch& batch, int64_t row, const std::string& reason) override;
  int64_t count() const override { return count_; }
  std::vector<std::string> reasons() const override { return reasons_; }
  void commit() override;

 private:
  std::string path_, partial_;
  std::FILE* file_ = nullptr;
  int64_t count_ = 0;
  std::vector<std::string> reasons_;
};

}  // namespace datalab::transfer
