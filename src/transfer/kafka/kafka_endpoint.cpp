#include "transfer/kafka/kafka_endpoint.h"

#include <chrono>
#include <map>
#include <set>

#include <arrow/compute/cast.h>
#include <arrow/io/memory.h>
#include <arrow/json/api.h>
#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "core/arrow_status.h"
#include "core/error.h"
#include "storage/kafka/kafka_admin.h"
#include "storage/kafka/kafka_consumer.h"
#include "storage/kafka/kafka_producer.h"
#include "transfer/copy_run.h"
#include "transfer/json_rows.h"
#include "transfer/watermark_text.h"

namespace datalab::transfer {

namespace {

constexpr std::size_t kBatchMessages = 20'000;
constexpr std::size_t kKeptRejections = 100;  // described in the report; all are counted
constexpr int kStallSeconds = 60;             // no message and not at the end: the copy fails

void require_topic(const Endpoint& e) {
  if (e.topic.empty() || e.topic.find('/') != std::string::npos) {
    throw ConfigError(fmt::format("'{}' names no topic: expected kafka://host:port/topic", e.masked));
  }
}

// The ?name=value options an end takes; any other is a ConfigError listing them.
void check_options(const Endpoint& e, const std::set<std::string>& known) {
  for (const auto& [name, value] : e.options) {
    if (!known.contains(name)) {
      throw ConfigError(fmt::format("'{}': unknown option ?{}= (a Kafka {} takes {})", e.masked, name,
                                    known.contains("partitions") ? "target" : "source", fmt::join(known, ", ")));
    }
  }
}

std::string option(const Endpoint& e, const std::string& name, const std::string& fallback = "") {
  const auto it = e.options.find(name);
  return it == e.options.end() ? fallback : it->second;
}

// ---------------------------------------------------------------------------------------
// Source

// What inference found, as explicit types: an empty column (null type) as text, timestamps
// in microseconds (as the JSON Lines source does).
std::shared_ptr<arrow::Schema> usable(const arrow::Schema& inferred) {
  arrow::FieldVector fields;
  for (const auto& field : inferred.fields()) {
    auto type = field->type();
    if (type->id() == arrow::Type::NA) type = arrow::utf8();
    if (type->id() == arrow::Type::TIMESTAMP) {
      type = arrow::timestamp(arrow::TimeUnit::MICRO, static_cast<const arrow::TimestampType&>(*type).timezone());
    }
    fields.push_back(arrow::field(field->name(), type));
  }
  return arrow::schema(fields);
}

const char* const kMetadataColumns[] = {"_topic", "_partition", "_offset", "_timestamp"};

// ?schema=name:type,… (the --cast type names; commas inside decimal(p,s) do not split): the
// columns of the messages as declared, instead of inferred from the first ones.
std::shared_ptr<arrow::Schema> declared_schema(const Endpoint& e, const std::string& text) {
  std::vector<std::string> items{""};
  int depth = 0;
  for (const char c : text) {
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (c == ',' && depth == 0) {
      items.emplace_back();
    } else {
      items.back() += c;
    }
  }
  arrow::FieldVector fields;
  for (const auto& item : items) {
    const auto colon = item.find(':');
    if (colon == std::string::npos || colon == 0) {
      throw ConfigError(fmt::format("'{}': ?schema= item '{}' is not name:type (e.g. "
                                    "?schema=id:int64,amount:decimal(12,2),at:timestamptz)",
                                    e.masked, item));
    }
    const std::string name = item.substr(0, colon);
    for (const auto& field : fields) {
      if (field->name() == name) throw ConfigError(fmt::format("'{}': ?schema= names column '{}' twice", e.masked, name));
    }
    try {
      fields.push_back(arrow::field(name, parse_arrow_type(item.substr(colon + 1))));
    } catch (const ConfigError& error) {
      throw ConfigError(fmt::format("'{}': ?schema= column '{}': {}", e.masked, name, error.what()));
    }
  }
  return arrow::schema(fields);
}

// What Arrow's JSON reader is given for declared columns: dates as text (it reads a date
// only from a number of days), cast to dates after the read.
std::shared_ptr<arrow::Schema> json_read_schema(const arrow::Schema& columns) {
  arrow::FieldVector fields;
  for (const auto& field : columns.fields()) {
    fields.push_back(field->type()->id() == arrow::Type::DATE32 ? field->WithType(arrow::utf8()) : field);
  }
  return arrow::schema(fields);
}

class KafkaSource : public BatchSource {
 public:
  KafkaSource(const Endpoint& e, const Config& config) : settings_(kafka_settings_of(e, config)), topic_(e.topic) {
    require_topic(e);
    check_options(e, {"from", "group", "dead_letter", "metadata", "schema"});
    const std::string from = option(e, "from", "earliest");
    if (from != "earliest" && from != "latest") {
      throw ConfigError(fmt::format("'{}': ?from={} (expected earliest or latest)", e.masked, from));
    }
    const std::string metadata = option(e, "metadata", "false");
    if (metadata != "true" && metadata != "false") {
      throw ConfigError(fmt::format("'{}': ?metadata={} (expected true or false)", e.masked, metadata));
    }
    metadata_ = metadata == "true";
    dead_letter_ = option(e, "dead_letter");
    if (const std::string declared = option(e, "schema"); !declared.empty()) {
      columns_ = declared_schema(e, declared);
      check_metadata_names();
      schema_ = with_metadata(columns_);
      declared_ = true;
    }

    KafkaAdmin admin(settings_);
    if (!admin.topic_exists(topic_)) {
      throw ConfigError(fmt::format("topic {} does not exist on Kafka at {}", topic_, settings_.bootstrap_servers));
    }
    if (!dead_letter_.empty()) {
      if (!admin.topic_exists(dead_letter_)) {
        throw ConfigError(fmt::format("dead-letter topic {} does not exist on Kafka at {}: create it first",
                                      dead_letter_, settings_.bootstrap_servers));
      }
      producer_ = std::make_unique<KafkaProducer>(settings_);
    }
    const std::string group = option(e, "group");
    if (group.empty()) {
      if (from == "latest") {
        throw ConfigError(fmt::format("'{}': ?from=latest without ?group= would copy nothing (a copy ends at the "
                                      "end it sees at its start); add ?group=name to read new messages run by run",
                                      e.masked));
      }
      const int partitions = admin.partition_count(topic_);
      range_ = std::make_unique<TopicRangeReader>(settings_, topic_, std::vector<int64_t>(partitions, 0));
    } else {
      group_ = group;
      ends_ = admin.high_watermarks(topic_);
      ConsumerOptions options;
      options.group = group;
      options.offset_reset = from;
      consumer_ = std::make_unique<KafkaConsumer>(settings_, topic_, static_cast<int>(ends_.size()), options);
    }
    // Without ?schema= the columns come from the first messages: read until some are valid (or the end).
    while (!schema_ && !finished_) pending_ = read_batch();
    if (!schema_) schema_ = with_metadata(arrow::schema(arrow::FieldVector{}));
  }

  std::shared_ptr<arrow::Schema> schema() override { return schema_; }

  std::shared_ptr<arrow::RecordBatch> next() override {
    if (pending_) return std::exchange(pending_, nullptr);
    while (!finished_) {
      if (auto batch = read_batch()) return batch;
    }
    // Every dead letter is acknowledged before the target may commit (and the group after it).
    if (producer_) producer_->wait_for_deliveries();
    return nullptr;
  }

  uint64_t bytes_read() const override { return bytes_read_; }
  int64_t rejected_rows() const override { return rejected_; }
  std::vector<std::string> rejections() const override { return rejections_; }

  void committed() override {
    if (!consumer_) return;
    if (!consumer_->commit(next_offsets_)) {
      spdlog::warn("kafka: the offsets of group {} were not committed: its next run reads these messages again",
                   group_);
    }
    consumer_->close();
  }

 private:
  // The next batch of messages as rows (nullptr when none of them made a row).
  std::shared_ptr<arrow::RecordBatch> read_batch() {
    auto messages = poll();
    if (messages.empty()) return nullptr;
    std::vector<const KafkaMessage*> objects;
    for (const auto& m : messages) {
      bytes_read_ += m.value().size();
      if (consumer_) next_offsets_[m.partition()] = m.offset() + 1;
      if (auto why = not_an_object(m.value())) {
        reject(m, *why);
      } else {
        objects.push_back(&m);
      }
    }
    if (objects.empty()) return nullptr;
    if (!schema_) infer(objects);
    auto parsed = parse(objects);
    if (!parsed.ok()) {
      // One message spoils Arrow's whole block: find which, one by one.
      std::vector<const KafkaMessage*> fitting;
      for (const auto* m : objects) {
        auto alone = parse({m});
        if (alone.ok()) {
          fitting.push_back(m);
        } else {
          reject(*m, reason_of(*m, alone.status()));
        }
      }
      objects = std::move(fitting);
      if (objects.empty()) return nullptr;
      parsed = parse(objects);
    }
    auto batch = unwrap_arrow(std::move(parsed), fmt::format("cannot read messages of {}", topic_));
    return with_metadata(batch, objects);
  }

  std::vector<KafkaMessage> poll() {
    std::vector<KafkaMessage> messages;
    if (range_) {
      if (range_->done()) {
        finished_ = true;
        return messages;
      }
      messages = range_->poll_batch(kBatchMessages, 500);
    } else {
      for (auto& m : consumer_->poll_batch(kBatchMessages, 500)) {
        // Past the end seen at the start: the next run's (its offset is not committed).
        if (m.offset() < ends_[static_cast<std::size_t>(m.partition())]) messages.push_back(std::move(m));
      }
      if (group_at_end()) finished_ = true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!messages.empty() || finished_) {
      last_progress_ = now;
    } else if (now - last_progress_ > std::chrono::seconds(kStallSeconds)) {
      throw ServiceError(fmt::format("Kafka at {}: no message of {} for {} s before its end{}",
                                     settings_.bootstrap_servers, topic_, kStallSeconds,
                                     consumer_ ? " (is another consumer of the group holding partitions?)" : ""));
    }
    return messages;
  }

  bool group_at_end() const {
    const auto& positions = consumer_->positions();
    for (std::size_t p = 0; p < ends_.size(); ++p) {
      const auto it = positions.find(static_cast<int32_t>(p));
      if (it == positions.end() || it->second < 0 || it->second < ends_[p]) return false;
    }
    return true;
  }

  static std::optional<std::string> not_an_object(std::string_view value) {
    rapidjson::Document document;
    document.Parse(value.data(), value.size());
    if (document.HasParseError()) {
      return fmt::format("not valid JSON ({} at byte {})", rapidjson::GetParseError_En(document.GetParseError()),
                         document.GetErrorOffset());
    }
    if (!document.IsObject()) return std::string("not a JSON object (one object per message is expected)");
    return std::nullopt;
  }

  // Newline-delimited, as Arrow's reader wants them; a raw line break can only be
  // whitespace between tokens in valid JSON, so it becomes a space.
  static std::string lines_of(const std::vector<const KafkaMessage*>& messages) {
    std::string text;
    for (const auto* m : messages) {
      const auto start = text.size();
      text += m->value();
      for (auto i = start; i < text.size(); ++i) {
        if (text[i] == '\n' || text[i] == '\r') text[i] = ' ';
      }
      text += '\n';
    }
    return text;
  }

  static arrow::Result<std::shared_ptr<arrow::Table>> read_lines(std::string text,
                                                                 const std::shared_ptr<arrow::Schema>& schema) {
    auto read = arrow::json::ReadOptions::Defaults();
    read.use_threads = false;
    read.block_size = static_cast<int32_t>(std::max<std::size_t>(text.size() + 1, 1 << 20));  // one block
    auto parse = arrow::json::ParseOptions::Defaults();
    if (schema) {
      parse.explicit_schema = schema;
      parse.unexpected_field_behavior = arrow::json::UnexpectedFieldBehavior::Error;
    }
    auto input = std::make_shared<arrow::io::BufferReader>(arrow::Buffer::FromString(std::move(text)));
    ARROW_ASSIGN_OR_RAISE(auto reader,
                          arrow::json::TableReader::Make(arrow::default_memory_pool(), input, read, parse));
    return reader->Read();
  }

  void infer(const std::vector<const KafkaMessage*>& objects) {
    auto table = read_lines(lines_of(objects), nullptr);
    if (!table.ok()) {
      // Messages that disagree on a type: the longest run of first messages that agree
      // decides (found by bisection), and the messages that do not fit it are rejected.
      std::size_t good = 1, bad = objects.size();
      while (bad - good > 1) {
        const std::size_t middle = good + (bad - good) / 2;
        const std::vector<const KafkaMessage*> prefix(objects.begin(), objects.begin() + middle);
        (read_lines(lines_of(prefix), nullptr).ok() ? good : bad) = middle;
      }
      table = read_lines(lines_of({objects.begin(), objects.begin() + good}), nullptr);
    }
    columns_ = usable(*unwrap_arrow<ConfigError>(std::move(table), fmt::format("cannot read the messages of {}", topic_))
                           ->schema());
    check_metadata_names();
    schema_ = with_metadata(columns_);
  }

  void check_metadata_names() const {
    for (const char* name : kMetadataColumns) {
      if (metadata_ && columns_->GetFieldIndex(name) >= 0) {
        throw ConfigError(fmt::format("the messages of {} have a field {}, as ?metadata=true names a column: drop "
                                      "?metadata=true",
                                      topic_, name));
      }
    }
  }

  arrow::Result<std::shared_ptr<arrow::RecordBatch>> parse(const std::vector<const KafkaMessage*>& objects) {
    ARROW_ASSIGN_OR_RAISE(auto table, read_lines(lines_of(objects), json_read_schema(*columns_)));
    ARROW_ASSIGN_OR_RAISE(auto batch, table->CombineChunksToBatch());
    auto arrays = batch->columns();
    for (int c = 0; c < columns_->num_fields(); ++c) {
      const auto& type = columns_->field(c)->type();
      if (arrays[c]->type()->Equals(*type)) continue;
      auto cast = arrow::compute::Cast(*arrays[c], type);
      if (!cast.ok()) return cast.status().WithMessage("field '", columns_->field(c)->name(), "': ", cast.status().message());
      arrays[c] = *cast;
    }
    return arrow::RecordBatch::Make(columns_, batch->num_rows(), std::move(arrays));
  }

  // Arrow's reason, or a plainer one for a field the schema lacks.
  std::string reason_of(const KafkaMessage& m, const arrow::Status& status) const {
    rapidjson::Document document;
    document.Parse(m.value().data(), m.value().size());
    for (auto it = document.MemberBegin(); it != document.MemberEnd(); ++it) {
      const std::string name(it->name.GetString(), it->name.GetStringLength());
      if (columns_->GetFieldIndex(name) < 0) {
        return fmt::format("field '{}' is not among the columns {} ({})", name, columns_origin(),
                           fmt::join(columns_->field_names(), ", "));
      }
    }
    return fmt::format("does not fit the columns {}: {}", columns_origin(), status.message());
  }

  const char* columns_origin() const { return declared_ ? "of ?schema=" : "inferred from the first messages"; }

  std::shared_ptr<arrow::Schema> with_metadata(const std::shared_ptr<arrow::Schema>& columns) const {
    if (!metadata_) return columns;
    auto fields = columns->fields();
    fields.push_back(arrow::field("_topic", arrow::utf8()));
    fields.push_back(arrow::field("_partition", arrow::int32()));
    fields.push_back(arrow::field("_offset", arrow::int64()));
    fields.push_back(arrow::field("_timestamp", arrow::timestamp(arrow::TimeUnit::MILLI, "UTC")));
    return arrow::schema(fields);
  }

  std::shared_ptr<arrow::RecordBatch> with_metadata(const std::shared_ptr<arrow::RecordBatch>& batch,
                                                    const std::vector<const KafkaMessage*>& messages) const {
    if (!metadata_) return batch;
    arrow::StringBuilder topics;
    arrow::Int32Builder partitions;
    arrow::Int64Builder offsets;
    arrow::TimestampBuilder timestamps(arrow::timestamp(arrow::TimeUnit::MILLI, "UTC"), arrow::default_memory_pool());
    for (const auto* m : messages) {
      check_arrow(topics.Append(m->topic()), "metadata");
      check_arrow(partitions.Append(m->partition()), "metadata");
      check_arrow(offsets.Append(m->offset()), "metadata");
      check_arrow(m->timestamp_ms() < 0 ? timestamps.AppendNull() : timestamps.Append(m->timestamp_ms()), "metadata");
    }
    auto columns = batch->columns();
    for (arrow::ArrayBuilder* builder :
         std::initializer_list<arrow::ArrayBuilder*>{&topics, &partitions, &offsets, &timestamps}) {
      columns.push_back(unwrap_arrow(builder->Finish(), "metadata"));
    }
    return arrow::RecordBatch::Make(schema_, batch->num_rows(), std::move(columns));
  }

  void reject(const KafkaMessage& m, const std::string& reason) {
    ++rejected_;
    const std::string where = fmt::format("{} partition {} offset {}", m.topic(), m.partition(), m.offset());
    spdlog::debug("kafka: rejected {}: {}", where, reason);
    if (rejections_.size() < kKeptRejections) rejections_.push_back(fmt::format("{}: {}", where, reason));
    if (producer_) {
      const auto key = m.key();
      producer_->produce(dead_letter_, key ? *key : std::string_view{}, m.value(),
                         {{"datalab.reason", reason},
                          {"datalab.topic", m.topic()},
                          {"datalab.partition", std::to_string(m.partition())},
                          {"datalab.offset", std::to_string(m.offset())}});
    }
  }

  KafkaSettings settings_;
  std::string topic_, dead_letter_, group_;
  bool metadata_ = false;
  bool declared_ = false;  // the columns come from ?schema=
  std::unique_ptr<TopicRangeReader> range_;
  std::unique_ptr<KafkaConsumer> consumer_;
  std::vector<int64_t> ends_;                 // group: the end offsets seen at the start
  std::map<int32_t, int64_t> next_offsets_;   // group: what to commit after the target
  std::unique_ptr<KafkaProducer> producer_;   // dead letters
  std::shared_ptr<arrow::Schema> columns_;    // of the messages (without metadata)
  std::shared_ptr<arrow::Schema> schema_;
  std::shared_ptr<arrow::RecordBatch> pending_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
  uint64_t bytes_read_ = 0;
  int64_t rejected_ = 0;
  std::vector<std::string> rejections_;
};

// ---------------------------------------------------------------------------------------
// Target

class KafkaTarget : public BatchTarget {
 public:
  KafkaTarget(const Endpoint& e, const Config& config) : settings_(kafka_settings_of(e, config)), topic_(e.topic) {
    require_topic(e);
    check_options(e, {"partitions", "transactional"});
    const std::string transactional = option(e, "transactional", "false");
    if (transactional != "true" && transactional != "false") {
      throw ConfigError(fmt::format("'{}': ?transactional={} (expected true or false)", e.masked, transactional));
    }
    transactional_ = transactional == "true";
    partitions_ = kafka_partitions_of(e, 3);
  }

  // Incremental copies keep their watermark as a message of kWatermarkTopic (key: target
  // topic and source), produced in the copy's own transaction: the rows and the watermark
  // become visible together, so a killed copy leaves neither and the next one starts from the
  // last committed watermark. The topic is read back read_committed, to its end.
  std::optional<Watermark> stored_watermark(const std::string& source_id, const IncrementalFilter& filter) override {
    if (!transactional_) {
      throw ConfigError(fmt::format("--incremental into Kafka needs ?transactional=true: the watermark is a message "
                                    "of the topic {} committed in the same transaction as the rows",
                                    kWatermarkTopic));
    }
    incremental_ = true;
    watermark_key_ = topic_ + "\n" + source_id;
    filter_ = filter;
    const std::optional<std::string> last = last_value_of_key(settings_, kWatermarkTopic, watermark_key_);
    if (!last) return std::nullopt;
    return parse_watermark_text(*last, filter, fmt::format("topic {} (in {})", topic_, kWatermarkTopic));
  }

  std::shared_ptr<arrow::Schema> open(const std::shared_ptr<arrow::Schema>& source_schema,
                                      const TargetOptions& options) override {
    if (options.mode != WriteMode::append) {
      throw ConfigError(fmt::format("--mode {}: a Kafka topic only takes new messages: use --mode append",
                                    options.mode == WriteMode::replace ? "replace" : "merge"));
    }
    if (options.merge_keys.size() > 1) {
      throw ConfigError(fmt::format("--key {}: a Kafka message has one key: name one column",
                                    fmt::join(options.merge_keys, ",")));
    }
    if (!options.merge_keys.empty()) {
      key_column_ = source_schema->GetFieldIndex(options.merge_keys.front());
      if (key_column_ < 0) {
        throw ConfigError(fmt::format("--key {}: the source has no such column (its columns: {})",
                                      options.merge_keys.front(), fmt::join(source_schema->field_names(), ", ")));
      }
    }
    for (const auto& field : source_schema->fields()) {
      if (!text_holds(*field->type())) {
        throw ConfigError(fmt::format("column '{}' has type {}, which a JSON message cannot hold: convert it in the "
                                      "source (e.g. a ?query= casting it to text)",
                                      field->name(), field->type()->ToString()));
      }
    }
    KafkaAdmin admin(settings_);
    if (!admin.topic_exists(topic_)) {
      if (!options.create) {
        throw ConfigError(fmt::format("topic {} does not exist on Kafka at {}: pass --create to make it "
                                      "(?partitions=N, default 3)",
                                      topic_, settings_.bootstrap_servers));
      }
      admin.ensure_topic({topic_, partitions_});
    }
    if (incremental_) admin.ensure_topic({kWatermarkTopic, 1});
    ProducerOptions producer;
    // One id per topic: the next transactional copy into it fences (and aborts) what a
    // killed one left open, so read_committed consumers are not held up until its timeout.
    if (transactional_) producer.transactional_id = "datalab-copy-" + topic_;
    producer_ = std::make_unique<KafkaProducer>(settings_, producer);
    encoder_.emplace(*source_schema);
    return source_schema;
  }

  void write(const arrow::RecordBatch& batch) override {
    encoder_->start(batch);
    std::string value;
    for (int64_t row = 0; row < batch.num_rows(); ++row) {
      value.clear();
      encoder_->append_row(row, value);
      std::string_view key;  // no data: a message without a key
      if (key_column_ >= 0) key = encoder_->text(key_column_, row).value_or(std::string_view{});
      producer_->produce(topic_, key, value);
      bytes_written_ += value.size();
    }
  }

  void commit(const std::string&, const std::optional<Watermark>& watermark) override {
    if (incremental_ && watermark) producer_->produce(kWatermarkTopic, watermark_key_, watermark_text(*filter_, *watermark));
    // Names how many messages were not acknowledged when any was not.
    if (transactional_) {
      producer_->commit_transaction();
    } else {
      producer_->wait_for_deliveries();
    }
  }

  uint64_t bytes_written() const override { return bytes_written_; }

 private:
  KafkaSettings settings_;
  std::string topic_;
  int partitions_ = 3;
  static constexpr const char* kWatermarkTopic = "datalab-copy-watermarks";
  bool transactional_ = false;  // ?transactional=true: the copy's messages commit at once
  bool incremental_ = false;
  std::string watermark_key_;
  std::optional<IncrementalFilter> filter_;
  int key_column_ = -1;
  std::unique_ptr<KafkaProducer> producer_;
  std::optional<JsonRowEncoder> encoder_;
  uint64_t bytes_written_ = 0;
};

}  // namespace

KafkaSettings kafka_settings_of(const Endpoint& e, const Config& config) {
  if (e.host.empty()) {
    auto settings = KafkaSettings::from(config);
    if (settings.bootstrap_servers.empty()) {
      throw ConfigError(fmt::format("'{}' names no broker and BOOTSTRAP_SERVER is not set", e.masked));
    }
    return settings;
  }
  return {e.host + ":" + (e.port.empty() ? "9092" : e.port)};
}

int kafka_partitions_of(const Endpoint& e, int fallback) {
  const auto it = e.options.find("partitions");
  if (it == e.options.end()) return fallback;
  try {
    std::size_t used = 0;
    const int partitions = std::stoi(it->second, &used);
    if (used != it->second.size() || partitions < 1) throw std::invalid_argument("range");
    return partitions;
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("'{}': ?partitions={} (expected a whole number of at least 1)", e.masked,
                                  it->second));
  }
}

std::unique_ptr<BatchSource> make_kafka_source(const Endpoint& endpoint, const Config& config,
                                               const std::optional<IncrementalFilter>& filter) {
  if (filter) {
    throw ConfigError("--incremental from Kafka: messages have no cursor column; use ?group=name to copy, run by run, "
                      "only the messages the group has not read");
  }
  return std::make_unique<KafkaSource>(endpoint, config);
}

std::unique_ptr<BatchTarget> make_kafka_target(const Endpoint& endpoint, const Config& config) {
  return std::make_unique<KafkaTarget>(endpoint, config);
}

}  // namespace datalab::transfer
