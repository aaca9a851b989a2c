#pragma once
// An idempotent Kafka producer (librdkafka C++ API) that counts delivery reports, so a
// caller can wait for every message and fail loudly when any was not delivered.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/kafka/kafka_settings.h"

namespace RdKafka {
class Error;
class Producer;
}

namespace datalab {

struct ProducerOptions {
  // Batching: wait up to linger_ms to fill batches of up to batch_bytes, compressed.
  int linger_ms = 20;
  int batch_bytes = 1'000'000;
  int batch_messages = 10'000;
  std::string compression = "lz4";
  // Bounds memory: produce() waits while this many messages are queued and not yet acknowledged.
  int max_queued_messages = 100'000;
  // How long librdkafka keeps retrying one message (broker restarts included) before failing it.
  int delivery_timeout_ms = 300'000;
  std::map<std::string, std::string> extra;  // any other librdkafka property
  // Set: every message goes in one Kafka transaction, begun at construction, which
  // commit_transaction() commits and anything else aborts. The id is stable per use (a new
  // producer with it fences and aborts what a killed one left open).
  std::string transactional_id;
  int transaction_timeout_ms = 900'000;  // the broker's default transaction.max.timeout.ms
};

using KafkaHeaders = std::vector<std::pair<std::string, std::string>>;

// The delivery report of one message whose caller wants to know where it went, or why not.
struct KafkaDelivery {
  bool reported = false;
  bool too_large = false;  // refused for its size (by this producer or by the broker)
  std::string error;       // empty when delivered
  int32_t partition = -1;
  int64_t offset = -1;
};

class KafkaProducer {
 public:
  KafkaProducer(const KafkaSettings& settings, const ProducerOptions& options = {});
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Queues one message (copied); blocks while the local queue is full. Throws ServiceError
  // on a fatal producer error (e.g. the idempotence guarantee was lost).
  void produce(const std::string& topic, std::string_view key, std::string_view value,
               const KafkaHeaders& headers = {});
  // The same, reporting into *delivery (which must outlive the wait for deliveries) instead
  // of failing the producer: a message too large is reported at once, not thrown, and
  // wait_for_deliveries() does not count this message's failure.
  void produce(const std::string& topic, std::string_view key, std::string_view value, const KafkaHeaders& headers,
               KafkaDelivery& delivery);
  // Serves delivery reports without blocking.
  void poll();
  // Waits until every queued message has a delivery report (up to timeout), then throws
  // ServiceError if any message failed or is still undelivered.
  void wait_for_deliveries(int timeout_ms = 600'000);
  // Transactional producers: delivers every queued message and commits them at once (or
  // throws ServiceError, the transaction aborted); abort_transaction() drops them.
  // begin_transaction() opens the next one after either.
  void commit_transaction();
  void begin_transaction();
  void abort_transaction();

  uint64_t queued() const { return queued_; }
  uint64_t delivered() const { return delivered_.load(); }
  uint64_t failed() const { return failed_.load(); }

 private:
  class DeliveryReports;
  class Events;
  void throw_if_fatal();
  void check_transaction(RdKafka::Error* error, const char* what);  // throws ServiceError; frees it
  bool in_transaction_ = false;
  void produce(const std::string& topic, std::string_view key, std::string_view value, const KafkaHeaders& headers,
               KafkaDelivery* delivery);
  KafkaSettings settings_;
  std::unique_ptr<DeliveryReports> reports_;
  std::unique_ptr<Events> events_;
  std::unique_ptr<RdKafka::Producer> producer_;
  uint64_t queued_ = 0;
  std::atomic<uint64_t> delivered_{0}, failed_{0};
  std::atomic<uint64_t> reported_failures_{0};  // failures of messages with a KafkaDelivery (theirs to handle)
  std::mutex error_mutex_;
  std::string first_error_, fatal_error_;
};

}  // namespace datalab
