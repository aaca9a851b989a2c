#include "storage/kafka/kafka_admin.h"

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

namespace {

constexpr int kAdminTimeoutMs = 15'000;

template <typename T, void (*Destroy)(T*)>
struct Deleter {
  void operator()(T* p) const { if (p) Destroy(p); }
};
using Queue = std::unique_ptr<rd_kafka_queue_t, Deleter<rd_kafka_queue_t, rd_kafka_queue_destroy>>;
using Event = std::unique_ptr<rd_kafka_event_t, Deleter<rd_kafka_event_t, rd_kafka_event_destroy>>;
using NewTopic = std::unique_ptr<rd_kafka_NewTopic_t, Deleter<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy>>;
using AdminOptions =
    std::unique_ptr<rd_kafka_AdminOptions_t, Deleter<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>>;
using ConfigResource =
    std::unique_ptr<rd_kafka_ConfigResource_t, Deleter<rd_kafka_ConfigResource_t, rd_kafka_ConfigResource_destroy>>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t,
                                      Deleter<rd_kafka_topic_partition_list_t, rd_kafka_topic_partition_list_destroy>>;
using GroupOffsetsRequest =
    std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t,
                    Deleter<rd_kafka_ListConsumerGroupOffsets_t, rd_kafka_ListConsumerGroupOffsets_destroy>>;

AdminOptions admin_options(rd_kafka_t* handle, rd_kafka_admin_op_t op) {
  char errstr[512];
  AdminOptions options(rd_kafka_AdminOptions_new(handle, op));
  rd_kafka_AdminOptions_set_request_timeout(options.get(), kAdminTimeoutMs, errstr, sizeof errstr);
  return options;
}

// Waits for an admin request's result; a request the broker did not answer or refused as a
// whole is a ServiceError saying what was asked (`what`).
Event await_result(rd_kafka_queue_t* queue, const std::string& bootstrap, const std::string& what) {
  Event event(rd_kafka_queue_poll(queue, kAdminTimeoutMs + 5'000));
  if (!event) throw ServiceError(fmt::format("Kafka at {} did not answer: {}", bootstrap, what), "kafka");
  if (rd_kafka_event_error(event.get())) {
    throw ServiceError(
        fmt::format("Kafka at {}: {} failed: {}", bootstrap, what, rd_kafka_event_error_string(event.get())));
  }
  return event;
}

void destroy_metadata(const rd_kafka_metadata_t* m) { rd_kafka_metadata_destroy(m); }

}  // namespace

KafkaAdmin::KafkaAdmin(const KafkaSettings& settings) : settings_(settings) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", settings.bootstrap_servers.c_str(), errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw ConfigError(fmt::format("BOOTSTRAP_SERVER '{}': {}", settings.bootstrap_servers, errstr));
  }
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);  // errors only: no reconnect chatter
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!handle_) {
    rd_kafka_conf_destroy(conf);
    throw ServiceError(fmt::format("cannot create a Kafka client: {}", errstr));
  }
}

KafkaAdmin::~KafkaAdmin() {
  if (handle_) rd_kafka_destroy(handle_);
}

bool KafkaAdmin::ensure_topic(const TopicSpec& spec) {
  char errstr[512];
  NewTopic topic(rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions, spec.replication_factor, errstr,
                                       sizeof errstr));
  if (!topic) throw ConfigError(fmt::format("topic {}: {}", spec.name, errstr));
  for (const auto& [key, value] : spec.configs) {
    if (rd_kafka_NewTopic_set_config(topic.get(), key.c_str(), value.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw ConfigError(fmt::format("topic {}: bad config {}={}", spec.name, key, value));
    }
  }
  const auto options = admin_options(handle_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), kAdminTimeoutMs, errstr, sizeof errstr);
  Queue queue(rd_kafka_queue_new(handle_));
  rd_kafka_NewTopic_t* topics[] = {topic.get()};
  rd_kafka_CreateTopics(handle_, topics, 1, options.get(), queue.get());
  const auto event = await_result(queue.get(), settings_.bootstrap_servers, "creating topic " + spec.name);
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const auto err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return false;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      throw ServiceError(fmt::format("creating topic {} failed: {}", spec.name,
                                     message ? message : rd_kafka_err2str(err)));
    }
  }
  return true;
}

bool KafkaAdmin::delete_topic(const std::string& name) {
  using DeleteTopic = std::unique_ptr<rd_kafka_DeleteTopic_t, Deleter<rd_kafka_DeleteTopic_t, rd_kafka_DeleteTopic_destroy>>;
  DeleteTopic topic(rd_kafka_DeleteTopic_new(name.c_str()));
  rd_kafka_DeleteTopic_t* topics[] = {topic.get()};
  const auto options = admin_options(handle_, RD_KAFKA_ADMIN_OP_DELETETOPICS);
  char errstr[512];
  rd_kafka_AdminOptions_set_operation_timeout(options.get(), kAdminTimeoutMs, errstr, sizeof errstr);
  Queue queue(rd_kafka_queue_new(handle_));
  rd_kafka_DeleteTopics(handle_, topics, 1, options.get(), queue.get());
  const auto event = await_result(queue.get(), settings_.bootstrap_servers, "deleting topic " + name);
  size_t count = 0;
  const auto** results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const auto err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return false;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      throw ServiceError(fmt::format("deleting topic {} failed: {}", name, message ? message : rd_kafka_err2str(err)));
    }
  }
  return true;
}

bool KafkaAdmin::topic_exists(const std::string& name) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err = rd_kafka_metadata(handle_, 1, nullptr, &metadata, kAdminTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw ServiceError(fmt::format("Kafka at {}: cannot list topics: {}", settings_.bootstrap_servers,
                                   rd_kafka_err2str(err)),
                       "kafka");
  }
  std::unique_ptr<const rd_kafka_metadata_t, decltype(&destroy_metadata)> owned(metadata, &destroy_metadata);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (name == metadata->topics[i].topic && metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
  }
  return false;
}

int KafkaAdmin::partition_count(const std::string& name) {
  rd_kafka_topic_t* topic = rd_kafka_topic_new(handle_, name.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err = rd_kafka_metadata(handle_, 0, topic, &metadata, kAdminTimeoutMs);
  rd_kafka_topic_destroy(topic);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw ServiceError(fmt::format("Kafka at {}: no metadata for topic {}: {}", settings_.bootstrap_servers, name,
                                   rd_kafka_err2str(err)));
  }
  std::unique_ptr<const rd_kafka_metadata_t, decltype(&destroy_metadata)> owned(metadata, &destroy_metadata);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const auto& t = metadata->topics[i];
    if (name != t.topic) continue;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw ServiceError(fmt::format("Kafka topic {}: {}", name, rd_kafka_err2str(t.err)));
    }
    return t.partition_cnt;
  }
  throw ServiceError(fmt::format("Kafka topic {} does not exist", name));
}

std::vector<int64_t> KafkaAdmin::high_watermarks(const std::string& topic) { return watermarks(topic).high; }

KafkaAdmin::Watermarks KafkaAdmin::watermarks(const std::string& topic) {
  const auto partitions = static_cast<std::size_t>(partition_count(topic));
  Watermarks ends{std::vector<int64_t>(partitions, 0), std::vector<int64_t>(partitions, 0)};
  for (std::size_t p = 0; p < partitions; ++p) {
    const auto err = rd_kafka_query_watermark_offsets(handle_, topic.c_str(), static_cast<int32_t>(p), &ends.low[p],
                                                      &ends.high[p], kAdminTimeoutMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw ServiceError(fmt::format("Kafka: cannot read the offsets of {} [{}]: {}", topic, p, rd_kafka_err2str(err)));
    }
  }
  return ends;
}

std::vector<int64_t> KafkaAdmin::committed_offsets(const std::string& group, const std::string& topic) {
  const int partitions = partition_count(topic);
  PartitionList wanted(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(wanted.get(), topic.c_str(), p);
  GroupOffsetsRequest request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), wanted.get()));
  rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
  const auto options = admin_options(handle_, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
  Queue queue(rd_kafka_queue_new(handle_));
  rd_kafka_ListConsumerGroupOffsets(handle_, requests, 1, options.get(), queue.get());
  const std::string what = fmt::format("reading the committed offsets of group {} on {}", group, topic);
  const auto event = await_result(queue.get(), settings_.bootstrap_servers, what);
  size_t count = 0;
  const auto** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(event.get()), &count);
  std::vector<int64_t> committed(static_cast<std::size_t>(partitions), -1);
  for (size_t g = 0; g < count; ++g) {
    if (const auto* error = rd_kafka_group_result_error(groups[g])) {
      throw ServiceError(fmt::format("Kafka: {} failed: {}", what, rd_kafka_error_string(error)));
    }
    const auto* list = rd_kafka_group_result_partitions(groups[g]);
    for (int i = 0; list && i < list->cnt; ++i) {
      const auto& element = list->elems[i];
      if (element.err != RD_KAFKA_RESP_ERR_NO_ERROR || element.partition < 0 || element.partition >= partitions) continue;
      committed[static_cast<std::size_t>(element.partition)] = element.offset >= 0 ? element.offset : -1;
    }
  }
  return committed;
}

namespace {

// The per-resource errors of a DescribeConfigs or AlterConfigs result, as a ServiceError.
void check_config_results(const rd_kafka_ConfigResource_t** results, size_t count, const std::string& what) {
  for (size_t r = 0; r < count; ++r) {
    if (const auto err = rd_kafka_ConfigResource_error(results[r]); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* message = rd_kafka_ConfigResource_error_string(results[r]);
      throw ServiceError(fmt::format("Kafka: {} failed: {}", what, message ? message : rd_kafka_err2str(err)));
    }
  }
}

// The configuration entries of one topic, from DescribeConfigs; `own_only` keeps the
// topic's own (dynamic) entries, the ones AlterConfigs must send back.
std::map<std::string, std::string> describe_topic(rd_kafka_t* handle, const std::string& bootstrap,
                                                  const std::string& topic, bool own_only) {
  ConfigResource resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  const auto options = admin_options(handle, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  Queue queue(rd_kafka_queue_new(handle));
  rd_kafka_DescribeConfigs(handle, resources, 1, options.get(), queue.get());
  const std::string what = "describing the configuration of topic " + topic;
  const auto event = await_result(queue.get(), bootstrap, what);
  size_t count = 0;
  const auto** results =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  check_config_results(results, count, what);
  std::map<std::string, std::string> config;
  for (size_t r = 0; r < count; ++r) {
    size_t entries = 0;
    const auto** entry = rd_kafka_ConfigResource_configs(results[r], &entries);
    for (size_t e = 0; e < entries; ++e) {
      if (own_only && rd_kafka_ConfigEntry_source(entry[e]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) continue;
      const char* value = rd_kafka_ConfigEntry_value(entry[e]);
      config[rd_kafka_ConfigEntry_name(entry[e])] = value ? value : "";
    }
  }
  return config;
}

}  // namespace

std::map<std::string, std::string> KafkaAdmin::topic_config(const std::string& topic) {
  return describe_topic(handle_, settings_.bootstrap_servers, topic, false);
}

void KafkaAdmin::set_topic_config(const std::string& topic, const std::string& key, const std::string& value) {
  auto config = describe_topic(handle_, settings_.bootstrap_servers, topic, true);
  config[key] = value;
  ConfigResource resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
  for (const auto& [name, setting] : config) {
    if (rd_kafka_ConfigResource_set_config(resource.get(), name.c_str(), setting.c_str()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw ConfigError(fmt::format("topic {}: bad config {}={}", topic, name, setting));
    }
  }
  rd_kafka_ConfigResource_t* resources[] = {resource.get()};
  const auto options = admin_options(handle_, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
  Queue queue(rd_kafka_queue_new(handle_));
  rd_kafka_AlterConfigs(handle_, resources, 1, options.get(), queue.get());
  const std::string what = fmt::format("setting {}={} on topic {}", key, value, topic);
  const auto event = await_result(queue.get(), settings_.bootstrap_servers, what);
  size_t count = 0;
  const auto** results = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event.get()), &count);
  check_config_results(results, count, what);
}

}  // namespace datalab
