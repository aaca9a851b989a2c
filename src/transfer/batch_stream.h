#pragma once
// The two halves of every `datalab copy`: a source that yields Arrow record batches and a
// target that stores them. Each storage implements them once, on its connector in
// src/storage/; the copy itself (copy_run.h) knows no storage.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/api.h>

namespace datalab::transfer {

// Where an incremental copy stopped: the cursor column's value of the last row copied and,
// when a key breaks ties between equal cursors, the key's values, as SQL literal text.
struct Watermark {
  std::string cursor;
  std::vector<std::string> key;
};

// Rows past the watermark only: (cursor, key…) strictly greater, in that order; rows whose
// cursor is NULL are never copied incrementally (the report counts them).
struct IncrementalFilter {
  std::string cursor_column;
  std::vector<std::string> key_columns;
  std::optional<Watermark> after;  // nullopt: the first run copies every row with a cursor
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Known before the first row is read.
  virtual std::shared_ptr<arrow::Schema> schema() = 0;
  // The next batch, or nullptr after the last one. Memory stays bounded by a few batches.
  virtual std::shared_ptr<arrow::RecordBatch> next() = 0;
  // Bytes read from the storage so far (0 when the connector cannot tell).
  virtual uint64_t bytes_read() const { return 0; }
  // Rows the source skipped under an incremental filter because their cursor is NULL.
  virtual int64_t null_cursor_rows() { return 0; }
  // Input the source could not make rows of (a Kafka message that is not JSON, …), never
  // dropped silently: counted, and each described by where it was and why (the first few).
  virtual int64_t rejected_rows() const { return 0; }
  virtual std::vector<std::string> rejections() const { return {}; }
  // Called once the target committed: a source that acknowledges what it read (a Kafka
  // consumer group committing its offsets) does it only then.
  virtual void committed() {}
  // A source whose types are only guessed (CSV) reads the columns an existing target
  // already has with the target's types instead (as psql's \copy parses with the table's),
  // before the first batch; a value that does not parse is an error naming file and column.
  virtual void read_as(const arrow::Schema& target_columns) { (void)target_columns; }
};

enum class WriteMode { append, replace, merge };

// Where the rows a target refuses one by one go (--reject FILE), instead of failing the copy.
class RowRejects {
 public:
  virtual ~RowRejects() = default;
  // Row `row` of `batch` (of the schema open() returned), and the storage's reason.
  virtual void reject(const arrow::RecordBatch& batch, int64_t row, const std::string& reason) = 0;
  virtual int64_t count() const = 0;
  virtual std::vector<std::string> reasons() const = 0;  // the first few
  // The target committed the other rows: the refused ones become visible too.
  virtual void commit() = 0;
};

struct TargetOptions {
  WriteMode mode = WriteMode::append;
  std::vector<std::string> merge_keys;  // merge: the columns that identify a row
  bool create = false;                  // create a missing table from the source's schema
  // Set: a target that can tell which rows its storage refuses (PostgreSQL) hands them here
  // and stores the others; unset, such a row fails the whole copy, which changes nothing.
  RowRejects* rejects = nullptr;
};

class BatchTarget {
 public:
  virtual ~BatchTarget() = default;
  // The columns of the table the copy will write into, when it exists and the target can
  // tell (nullptr otherwise), in Arrow types: they type an untyped source (read_as).
  virtual std::shared_ptr<arrow::Schema> existing_columns() { return nullptr; }
  // The watermark an earlier incremental copy from `source_id` stored here, if any.
  virtual std::optional<Watermark> stored_watermark(const std::string& source_id,
                                                    const IncrementalFilter& filter) = 0;
  // Checks the source's schema against the target (creating it when asked) before any row
  // is written: a column the target cannot hold is a ConfigError naming the column and both
  // types. Returns the schema the batches must have when they reach write(): the source's,
  // or one the copy casts to (a target column of a wider type).
  virtual std::shared_ptr<arrow::Schema> open(const std::shared_ptr<arrow::Schema>& source_schema,
                                              const TargetOptions& options) = 0;
  virtual void write(const arrow::RecordBatch& batch) = 0;
  // Makes every row written visible at once; `watermark` (incremental copies) is stored in
  // the same transaction where the target has transactions. Without commit() — an error or
  // an interrupt — the target keeps its previous contents.
  virtual void commit(const std::string& source_id, const std::optional<Watermark>& watermark) = 0;
  virtual uint64_t bytes_written() const { return 0; }
};

}  // namespace datalab::transfer
