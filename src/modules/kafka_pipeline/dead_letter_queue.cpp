#include "modules/kafka_pipeline/dead_letter_queue.h"

#include <chrono>
#include <ctime>
#include <functional>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "modules/kafka_pipeline/flight_message.h"
#include "modules/kafka_pipeline/flight_store.h"
#include "storage/kafka/kafka_admin.h"
#include "storage/kafka/kafka_producer.h"

namespace datalab::kafka_pipeline {

namespace {

constexpr std::size_t kBatchMessages = 1'000;
constexpr int kStallSeconds = 60;  // a topic that stops delivering before its end is an error

// An attempt count carried in a header: 1 without it or when it is not a number.
int attempt_in(const KafkaMessage& message, const char* header) {
  const auto text = message.header(header);
  if (!text) return 1;
  try {
    return std::max(1, std::stoi(*text));
  } catch (const std::exception&) {
    return 1;
  }
}

// One record of the dead-letter topic, read back.
struct Letter {
  const KafkaMessage* message = nullptr;
  std::optional<DeadLetterRecord> record;  // nullopt: not a dead letter in datalab's format
  std::string reason;                      // the record's reason, or why it could not be read
  int attempt = 1;
};

Letter read_letter(const KafkaMessage& message) {
  Letter letter;
  letter.message = &message;
  std::string error;
  letter.record = parse_dead_letter_value(message.value(), &error);
  letter.reason = letter.record ? letter.record->reason : "(not a datalab dead letter: " + error + ")";
  letter.attempt = attempt_in(message, kDeadLetterAttemptHeader);
  return letter;
}

// Calls on_batch with every record of the topic, from the oldest kept to the end at the
// call; on_batch returns false to stop early.
void read_dead_letters(const KafkaSettings& kafka, const std::string& topic,
                       const std::function<bool(const std::vector<Letter>&)>& on_batch) {
  KafkaAdmin admin(kafka);
  if (!admin.topic_exists(topic)) {
    throw ConfigError(fmt::format("dead-letter topic {} does not exist (KAFKA_DLQ_TOPIC, or --topic)", topic));
  }
  TopicRangeReader reader(kafka, topic, std::vector<int64_t>(admin.partition_count(topic), 0));
  auto last_message = std::chrono::steady_clock::now();
  while (!reader.done()) {
    const auto batch = reader.poll_batch(kBatchMessages, 500);
    if (batch.empty()) {
      if (std::chrono::steady_clock::now() - last_message > std::chrono::seconds(kStallSeconds)) {
        throw ServiceError(fmt::format("Kafka: {} stopped delivering before its end ({} s without a message)", topic,
                                       kStallSeconds));
      }
      continue;
    }
    last_message = std::chrono::steady_clock::now();
    std::vector<Letter> letters;
    letters.reserve(batch.size());
    for (const auto& message : batch) letters.push_back(read_letter(message));
    if (!on_batch(letters)) return;
  }
}

std::string utc_time(int64_t ms) {
  if (ms < 0) return "";
  const std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string letter_id(const std::string& dlq_topic, const KafkaMessage& message) {
  return fmt::format("{}:{}:{}", dlq_topic, message.partition(), message.offset());
}

std::string preview(const DeadLetterRecord& record) {
  if (!record.value) return fmt::format("(cut: {} bytes)", record.value_bytes);
  constexpr std::size_t kShown = 120;
  return record.value->size() > kShown ? record.value->substr(0, kShown) + "..." : *record.value;
}

// The original message at its place, when its topic still has it (and it is the same
// message: same SHA-256 of the value).
std::optional<std::pair<std::optional<std::string>, std::string>> read_original(const KafkaSettings& kafka,
                                                                                const DeadLetterRecord& record) {
  std::vector<int64_t> from(static_cast<std::size_t>(record.partition) + 1, std::numeric_limits<int64_t>::max());
  from.back() = record.offset;
  TopicRangeReader reader(kafka, record.topic, from);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kStallSeconds);
  while (!reader.done() && std::chrono::steady_clock::now() < deadline) {
    const auto batch = reader.poll_batch(1, 500);
    if (batch.empty()) continue;
    const auto& message = batch.front();
    if (message.offset() != record.offset || sha256_hex(message.value()) != record.value_sha256) return std::nullopt;
    std::optional<std::string> key;
    if (message.key()) key = std::string(*message.key());
    return std::pair{std::move(key), std::string(message.value())};
  }
  return std::nullopt;
}

}  // namespace

int message_attempt(const KafkaMessage& message) { return attempt_in(message, kAttemptHeader); }

DeadLetterGrouping parse_dead_letter_grouping(const std::string& text) {
  if (text.empty()) return DeadLetterGrouping::None;
  if (text == "reason") return DeadLetterGrouping::Reason;
  if (text == "attempt") return DeadLetterGrouping::Attempt;
  if (text == "topic") return DeadLetterGrouping::Topic;
  throw ConfigError(fmt::format("--by {}: expected reason, attempt or topic", text));
}

ResultTable dead_letter_stats(const KafkaSettings& kafka, const std::string& dlq_topic, DeadLetterGrouping by) {
  struct Group {
    uint64_t messages = 0;
    int64_t oldest = std::numeric_limits<int64_t>::max(), newest = -1;
  };
  std::map<std::string, Group> groups;
  read_dead_letters(kafka, dlq_topic, [&](const std::vector<Letter>& letters) {
    for (const auto& letter : letters) {
      std::string key;
      switch (by) {
        case DeadLetterGrouping::None: break;
        case DeadLetterGrouping::Reason: key = letter.reason; break;
        case DeadLetterGrouping::Attempt: key = std::to_string(letter.attempt); break;
        case DeadLetterGrouping::Topic: key = letter.record ? letter.record->topic : ""; break;
      }
      auto& group = groups[key];
      ++group.messages;
      const int64_t at = letter.message->timestamp_ms();
      group.oldest = std::min(group.oldest, at);
      group.newest = std::max(group.newest, at);
    }
    return true;
  });
  static const std::map<DeadLetterGrouping, std::string> kColumn{
      {DeadLetterGrouping::Reason, "reason"}, {DeadLetterGrouping::Attempt, "attempt"},
      {DeadLetterGrouping::Topic, "original_topic"}};
  ResultTable table;
  if (by != DeadLetterGrouping::None) {
    table.columns.push_back(kColumn.at(by));
    table.kinds.push_back(by == DeadLetterGrouping::Attempt ? ValueKind::Number : ValueKind::Text);
  }
  for (const char* column : {"messages", "oldest", "newest"}) table.columns.emplace_back(column);
  for (const auto kind : {ValueKind::Number, ValueKind::Text, ValueKind::Text}) table.kinds.push_back(kind);
  if (groups.empty() && by == DeadLetterGrouping::None) table.add_row({"0", std::nullopt, std::nullopt});
  for (const auto& [key, group] : groups) {
    std::vector<std::optional<std::string>> row;
    if (by != DeadLetterGrouping::None) row.emplace_back(key);
    row.emplace_back(std::to_string(group.messages));
    row.emplace_back(utc_time(group.oldest));
    row.emplace_back(utc_time(group.newest));
    table.add_row(std::move(row));
  }
  return table;
}

ResultTable show_dead_letters(const KafkaSettings& kafka, const std::string& dlq_topic, const std::string& reason,
                              std::size_t limit) {
  ResultTable table{{"partition", "offset", "time", "attempt", "reason", "original", "key", "value"},
                    {ValueKind::Number, ValueKind::Number, ValueKind::Text, ValueKind::Number, ValueKind::Text,
                     ValueKind::Text, ValueKind::Text, ValueKind::Text},
                    {}};
  read_dead_letters(kafka, dlq_topic, [&](const std::vector<Letter>& letters) {
    for (const auto& letter : letters) {
      if (!reason.empty() && letter.reason.find(reason) == std::string::npos) continue;
      const auto& m = *letter.message;
      std::optional<std::string> original, key, value;
      if (letter.record) {
        const auto& r = *letter.record;
        original = fmt::format("{} [{}] @ {}", r.topic, r.partition, r.offset);
        if (r.has_key) key = r.key.value_or("(cut)");
        value = preview(r);
      }
      table.add_row({std::to_string(m.partition()), std::to_string(m.offset()), utc_time(m.timestamp_ms()),
                     std::to_string(letter.attempt), letter.reason, original, key, value});
      if (limit > 0 && table.rows.size() >= limit) return false;
    }
    return true;
  });
  return table;
}

namespace {

// Sends dead letters back to their topics, each once: kafka_pipeline.dead_letter_replays is
// asked first, written before sending (with where the target topic ended) and completed once
// the broker acknowledged. An entry never completed (a crash in between) is looked for in
// the target topic from that end on, and only sent again when it is not there.
class Replayer {
 public:
  Replayer(const PostgresSettings& postgres, const KafkaSettings& kafka, std::string dlq_topic,
           const ReplayOptions& options)
      : kafka_(kafka), dlq_topic_(std::move(dlq_topic)), options_(options), db_(postgres), ledger_(db_),
        admin_(kafka) {
    FlightStore(db_).create_tables();
  }

  void replay(const std::vector<Letter>& letters, ReplayStats& stats) {
    std::vector<const Letter*> selected;
    std::vector<ReplayLedger::Place> places;
    for (const auto& letter : letters) {
      if (!options_.reason.empty() && letter.reason.find(options_.reason) == std::string::npos) continue;
      ++stats.matched;
      if (!letter.record) {
        ++stats.unreadable;
        continue;
      }
      selected.push_back(&letter);
      places.push_back({letter.message->partition(), letter.message->offset()});
    }
    const auto known = ledger_.find(dlq_topic_, places);
    std::map<std::string, std::vector<std::size_t>> unsure;  // target topic -> selected index
    std::vector<std::size_t> to_send;
    for (std::size_t i = 0; i < selected.size(); ++i) {
      const auto entry = known.find(places[i]);
      if (entry != known.end() && entry->second.letter_timestamp_ms == selected[i]->message->timestamp_ms()) {
        if (entry->second.delivered) {
          ++stats.already_replayed;
        } else {
          unsure[entry->second.target_topic].push_back(i);
        }
        continue;
      }
      if (selected[i]->attempt >= options_.max_attempts) {
        ++stats.kept_dead;
        continue;
      }
      to_send.push_back(i);
    }
    for (const auto& [topic, indexes] : unsure) {
      for (const std::size_t i : find_sent(topic, indexes, selected, known, places, stats)) to_send.push_back(i);
    }
    send(selected, places, to_send, stats);
  }

 private:
  // The unsure entries of one target topic that are not in it (to be sent); those found are
  // recorded as delivered.
  std::vector<std::size_t> find_sent(const std::string& topic, const std::vector<std::size_t>& indexes,
                                     const std::vector<const Letter*>& selected,
                                     const std::map<ReplayLedger::Place, ReplayLedger::Entry>& known,
                                     const std::vector<ReplayLedger::Place>& places, ReplayStats& stats) {
    std::vector<int64_t> from;
    std::map<std::string, std::size_t> wanted;
    for (const std::size_t i : indexes) {
      lower_search_start(from, known.at(places[i]).search_from);
      wanted[letter_id(dlq_topic_, *selected[i]->message)] = i;
    }
    std::vector<ReplayLedger::Delivered> found;
    if (options_.dry_run) {
      std::vector<std::size_t> all;
      for (const auto& [id, i] : wanted) all.push_back(i);
      return all;
    }
    read_topic_range(kafka_, topic, from, [&](const KafkaMessage& message) {
      const auto of = message.header(kReplayOfHeader);
      if (!of) return;
      const auto it = wanted.find(*of);
      if (it == wanted.end()) return;
      found.push_back({places[it->second], message.partition(), message.offset()});
      wanted.erase(it);
    });
    ledger_.record_delivered(dlq_topic_, found);
    stats.already_replayed += found.size();
    std::vector<std::size_t> rest;
    for (const auto& [id, i] : wanted) rest.push_back(i);
    return rest;
  }

  void send(const std::vector<const Letter*>& selected, const std::vector<ReplayLedger::Place>& places,
            const std::vector<std::size_t>& to_send, ReplayStats& stats) {
    struct Outgoing {
      std::size_t index;
      std::optional<std::string> key;
      std::string value;
    };
    std::map<std::string, std::vector<Outgoing>> by_topic;
    for (const std::size_t i : to_send) {
      const auto& record = *selected[i]->record;
      std::optional<std::string> key = record.key;
      std::optional<std::string> value = record.value;
      if (!value || (record.has_key && !key)) {  // cut from the record: read the original
        auto original = read_original(kafka_, record);
        if (!original) {
          spdlog::warn("kafka dlq replay: {} [{}] @ {} is cut in its dead letter and no longer in its topic",
                       record.topic, record.partition, record.offset);
          ++stats.unavailable;
          continue;
        }
        key = std::move(original->first);
        value = std::move(original->second);
      }
      by_topic[record.topic].push_back({i, std::move(key), std::move(*value)});
    }
    for (auto& [topic, outgoing] : by_topic) {
      if (options_.dry_run) {
        stats.replayed += outgoing.size();
        stats.replayed_to[topic] += outgoing.size();
        continue;
      }
      if (!admin_.topic_exists(topic)) {
        throw ConfigError(fmt::format("cannot replay dead letters of topic {}: it does not exist", topic));
      }
      std::vector<ReplayLedger::Intent> intents;
      for (const auto& o : outgoing) {
        intents.push_back({places[o.index], selected[o.index]->message->timestamp_ms(), selected[o.index]->attempt + 1});
      }
      ledger_.record_intent(dlq_topic_, topic, admin_.high_watermarks(topic), intents);
      std::vector<KafkaDelivery> deliveries(outgoing.size());
      for (std::size_t k = 0; k < outgoing.size(); ++k) {
        const auto& o = outgoing[k];
        const Letter& letter = *selected[o.index];
        producer_.produce(topic, o.key ? std::string_view(*o.key) : std::string_view{}, o.value,
                          {{kAttemptHeader, std::to_string(letter.attempt + 1)},
                           {kReplayOfHeader, letter_id(dlq_topic_, *letter.message)}},
                          deliveries[k]);
      }
      producer_.wait_for_deliveries();
      std::vector<ReplayLedger::Delivered> delivered;
      for (std::size_t k = 0; k < outgoing.size(); ++k) {
        const auto& d = deliveries[k];
        if (!d.error.empty()) {
          throw ServiceError(fmt::format("Kafka: cannot replay {} to {}: {}",
                                         letter_id(dlq_topic_, *selected[outgoing[k].index]->message), topic, d.error));
        }
        delivered.push_back({places[outgoing[k].index], d.partition, d.offset});
      }
      ledger_.record_delivered(dlq_topic_, delivered);
      stats.replayed += delivered.size();
      stats.replayed_to[topic] += delivered.size();
    }
  }

  KafkaSettings kafka_;
  std::string dlq_topic_;
  ReplayOptions options_;
  PgConnection db_;
  ReplayLedger ledger_;
  KafkaAdmin admin_;
  KafkaProducer producer_{kafka_};
};

}  // namespace

ReplayStats replay_dead_letters(const PostgresSettings& postgres, const KafkaSettings& kafka,
                                const std::string& dlq_topic, const ReplayOptions& options) {
  if (options.max_attempts < 1) throw ConfigError("--max-attempts must be at least 1");
  Replayer replayer(postgres, kafka, dlq_topic, options);
  ReplayStats stats;
  read_dead_letters(kafka, dlq_topic, [&](const std::vector<Letter>& letters) {
    replayer.replay(letters, stats);
    return true;
  });
  return stats;
}

}  // namespace datalab::kafka_pipeline
