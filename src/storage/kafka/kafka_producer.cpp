#include "storage/kafka/kafka_producer.h"

#include <librdkafka/rdkafkacpp.h>

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.h"

namespace datalab {

class KafkaProducer::DeliveryReports : public RdKafka::DeliveryReportCb {
 public:
  explicit DeliveryReports(KafkaProducer& owner) : owner_(owner) {}
  void dr_cb(RdKafka::Message& message) override {
    if (auto* delivery = static_cast<KafkaDelivery*>(message.msg_opaque())) {
      delivery->reported = true;
      delivery->partition = message.partition();
      delivery->offset = message.offset();
      if (message.err() != RdKafka::ERR_NO_ERROR) {
        delivery->error = message.errstr();
        delivery->too_large = message.err() == RdKafka::ERR_MSG_SIZE_TOO_LARGE;
      }
      (message.err() == RdKafka::ERR_NO_ERROR ? owner_.delivered_ : owner_.reported_failures_)
          .fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      owner_.delivered_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    owner_.failed_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(owner_.error_mutex_);
    if (owner_.first_error_.empty()) {
      owner_.first_error_ = fmt::format("{} to {}: {}", message.key() ? "key " + *message.key() : "message",
                                        message.topic_name(), message.errstr());
    }
  }

 private:
  KafkaProducer& owner_;
};

// Broker connection problems are retried by librdkafka and only logged; a fatal error
// (the idempotent producer lost its guarantee) must stop the producer.
class KafkaProducer::Events : public RdKafka::EventCb {
 public:
  explicit Events(KafkaProducer& owner) : owner_(owner) {}
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    if (event.fatal()) {
      std::lock_guard lock(owner_.error_mutex_);
      owner_.fatal_error_ = event.str();
    } else {
      spdlog::debug("kafka producer: {}", event.str());
    }
  }

 private:
  KafkaProducer& owner_;
};

namespace {

void set(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string error;
  if (conf.set(key, value, error) != RdKafka::Conf::CONF_OK) {
    throw ConfigError(fmt::format("Kafka producer setting {}={}: {}", key, value, error));
  }
}

}  // namespace

KafkaProducer::KafkaProducer(const KafkaSettings& settings, const ProducerOptions& options)
    : settings_(settings), reports_(std::make_unique<DeliveryReports>(*this)), events_(std::make_unique<Events>(*this)) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set(*conf, "bootstrap.servers", settings.bootstrap_servers);
  // Idempotence: the broker drops retried duplicates, and order per partition is kept.
  set(*conf, "enable.idempotence", "true");
  set(*conf, "acks", "all");
  set(*conf, "linger.ms", std::to_string(options.linger_ms));
  set(*conf, "batch.size", std::to_string(options.batch_bytes));
  set(*conf, "batch.num.messages", std::to_string(options.batch_messages));
  set(*conf, "compression.type", options.compression);
  set(*conf, "queue.buffering.max.messages", std::to_string(options.max_queued_messages));
  set(*conf, "message.timeout.ms", std::to_string(options.delivery_timeout_ms));
  set(*conf, "log_level", "3");
  if (!options.transactional_id.empty()) {
    set(*conf, "transactional.id", options.transactional_id);
    set(*conf, "transaction.timeout.ms", std::to_string(options.transaction_timeout_ms));
  }
  for (const auto& [key, value] : options.extra) set(*conf, key, value);
  std::string error;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(reports_.get()), error) != RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", static_cast<RdKafka::EventCb*>(events_.get()), error) != RdKafka::Conf::CONF_OK) {
    throw ConfigError("Kafka producer callbacks: " + error);
  }
  producer_.reset(RdKafka::Producer::create(conf.get(), error));
  if (!producer_) throw ServiceError("cannot create a Kafka producer: " + error);
  if (!options.transactional_id.empty()) {
    check_transaction(producer_->init_transactions(60'000), "start transactions");
    begin_transaction();
  }
}

KafkaProducer::~KafkaProducer() {
  if (in_transaction_) {
    abort_transaction();
    return;
  }
  // Give in-flight messages a moment; callers that care have waited for deliveries already.
  if (producer_) producer_->flush(1'000);
}

void KafkaProducer::check_transaction(RdKafka::Error* error, const char* what) {
  if (!error) return;
  const std::string text = error->str();
  delete error;
  throw ServiceError(fmt::format("Kafka at {}: cannot {}: {}", settings_.bootstrap_servers, what, text));
}

void KafkaProducer::commit_transaction() {
  try {
    wait_for_deliveries();
    check_transaction(producer_->commit_transaction(60'000), "commit the transaction");
  } catch (const ServiceError&) {
    abort_transaction();  // what was produced stays invisible to read_committed consumers
    throw;
  }
  in_transaction_ = false;
}

void KafkaProducer::begin_transaction() {
  if (in_transaction_) return;
  check_transaction(producer_->begin_transaction(), "begin a transaction");
  in_transaction_ = true;
}

void KafkaProducer::abort_transaction() {
  if (!in_transaction_) return;
  in_transaction_ = false;
  if (RdKafka::Error* error = producer_->abort_transaction(30'000)) {
    spdlog::warn("kafka: the transaction was not aborted ({}); the broker aborts it after its timeout",
                 error->str());
    delete error;
  }
}

void KafkaProducer::throw_if_fatal() {
  std::lock_guard lock(error_mutex_);
  if (!fatal_error_.empty()) throw ServiceError("Kafka producer fatal error: " + fatal_error_);
}

void KafkaProducer::produce(const std::string& topic, std::string_view key, std::string_view value,
                            const KafkaHeaders& headers) {
  produce(topic, key, value, headers, nullptr);
}

void KafkaProducer::produce(const std::string& topic, std::string_view key, std::string_view value,
                            const KafkaHeaders& headers, KafkaDelivery& delivery) {
  delivery = {};
  produce(topic, key, value, headers, &delivery);
}

void KafkaProducer::produce(const std::string& topic, std::string_view key, std::string_view value,
                            const KafkaHeaders& headers, KafkaDelivery* delivery) {
  for (;;) {
    RdKafka::ErrorCode err;
    if (headers.empty()) {
      err = producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, delivery);
    } else {
      auto* h = RdKafka::Headers::create();
      for (const auto& [name, text] : headers) h->add(name, text);
      err = producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, h,
                               delivery);
      if (err != RdKafka::ERR_NO_ERROR) delete h;  // produce() owns the headers only on success
    }
    if (err == RdKafka::ERR_NO_ERROR) break;
    if (delivery && err == RdKafka::ERR_MSG_SIZE_TOO_LARGE) {
      *delivery = {true, true, RdKafka::err2str(err), -1, -1};
      return;
    }
    if (err != RdKafka::ERR__QUEUE_FULL) {
      throw ServiceError(fmt::format("Kafka: cannot queue a message for {}: {}", topic, RdKafka::err2str(err)));
    }
    // The local queue is full (bounded memory): serve delivery reports until there is room.
    producer_->poll(50);
    throw_if_fatal();
  }
  ++queued_;
  if ((queued_ & 0x3FF) == 0) {
    producer_->poll(0);
    throw_if_fatal();
  }
}

void KafkaProducer::poll() {
  producer_->poll(0);
  throw_if_fatal();
}

void KafkaProducer::wait_for_deliveries(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (producer_->outq_len() > 0 && std::chrono::steady_clock::now() < deadline) {
    producer_->flush(200);
    throw_if_fatal();
  }
  producer_->poll(0);
  throw_if_fatal();
  const uint64_t reported = delivered() + failed() + reported_failures_.load();
  if (failed() > 0) {
    std::lock_guard lock(error_mutex_);
    throw ServiceError(fmt::format("Kafka at {}: {} of {} messages were not delivered (first: {})",
                                   settings_.bootstrap_servers, failed(), queued_, first_error_));
  }
  if (reported < queued_) {
    throw ServiceError(fmt::format("Kafka at {}: {} of {} messages still unacknowledged after {} s",
                                   settings_.bootstrap_servers, queued_ - reported, queued_, timeout_ms / 1000));
  }
}

}  // namespace datalab
