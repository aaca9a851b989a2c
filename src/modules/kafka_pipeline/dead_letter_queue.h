#pragma once
// Operating the dead-letter topic: what is in it (stats, show) and sending dead letters back
// to the topic they came from (replay), each at most once, with an attempt count that keeps a
// message that goes on failing dead.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result_table.h"
#include "storage/kafka/kafka_consumer.h"
#include "storage/postgres/postgres_settings.h"

namespace datalab::kafka_pipeline {

// On a message sent back by replay: its delivery attempt (a message never replayed is attempt 1).
inline constexpr const char* kAttemptHeader = "datalab.attempt";
// On a message sent back by replay: the dead letter it came from, "<dlq topic>:<partition>:<offset>".
inline constexpr const char* kReplayOfHeader = "dlq.replay.of";
// On a dead letter: the attempt of the message that failed.
inline constexpr const char* kDeadLetterAttemptHeader = "dlq.attempt";

// The attempt a message is on (kAttemptHeader; 1 without it or when it is not a number).
int message_attempt(const KafkaMessage& message);

// Grouping for `datalab kafka dlq stats --by`.
enum class DeadLetterGrouping { None, Reason, Attempt, Topic };
DeadLetterGrouping parse_dead_letter_grouping(const std::string& text);  // throws ConfigError

// Dead letters from the oldest the topic keeps to its end now: count, oldest and newest per group.
ResultTable dead_letter_stats(const KafkaSettings& kafka, const std::string& dlq_topic, DeadLetterGrouping by);

// The dead letters whose reason contains `reason` (every one when empty), oldest first, at
// most `limit` (0: all).
ResultTable show_dead_letters(const KafkaSettings& kafka, const std::string& dlq_topic, const std::string& reason,
                              std::size_t limit);

struct ReplayOptions {
  std::string reason;     // only dead letters whose reason contains this (empty: all)
  int max_attempts = 3;   // a dead letter of a message on this attempt or later stays dead
  bool dry_run = false;   // count what would be replayed, send nothing
};

struct ReplayStats {
  uint64_t matched = 0;           // dead letters the reason filter selected
  uint64_t replayed = 0;          // sent back now
  uint64_t already_replayed = 0;  // sent back by an earlier replay
  uint64_t kept_dead = 0;         // at max_attempts
  uint64_t unavailable = 0;       // original cut from the record and no longer in its topic
  uint64_t unreadable = 0;        // not a dead letter in datalab's format
  std::map<std::string, uint64_t> replayed_to;  // topic -> messages sent back now
};

ReplayStats replay_dead_letters(const PostgresSettings& postgres, const KafkaSettings& kafka,
                                const std::string& dlq_topic, const ReplayOptions& options);

}  // namespace datalab::kafka_pipeline
