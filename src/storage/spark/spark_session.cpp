#include "storage/spark/spark_session.h"

#include <chrono>

#include <arrow/io/memory.h>
#include <arrow/ipc/reader.h>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "core/config.h"
#include "core/error.h"
#include "core/uuid.h"
#include "spark/connect/base.grpc.pb.h"
#include "storage/spark/spark_dataframe.h"

namespace datalab::spark {

namespace proto = ::spark::connect;

namespace {

constexpr const char* kClientType = "datalab/0.1 (C++ Spark Connect client)";

// Spark's error text is the message, then the JVM stack ("\tat ..." lines): the message only.
// An overlong one (a JDBC batch error quotes its whole multi-row INSERT) keeps both ends, as
// the cause ("... was aborted: ERROR: ...") comes last.
std::string first_lines(const std::string& message, std::size_t max_chars = 1500) {
  std::string text = message.substr(0, message.find("\n\tat "));
  if (text.size() <= max_chars) return text;
  const std::size_t head = max_chars / 4;
  return text.substr(0, head) + " ... " + text.substr(text.size() - (max_chars - head));
}

std::unique_ptr<grpc::ClientContext> make_context(const SparkConnectSettings& settings, double timeout_seconds = 0) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!settings.token.empty()) context->AddMetadata("authorization", "Bearer " + settings.token);
  if (timeout_seconds > 0) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000)));
  }
  return context;
}

}  // namespace

struct SparkSession::Channel {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<proto::SparkConnectService::Stub> stub;
};

SparkSession::SparkSession(SparkConnectSettings settings, std::shared_ptr<Channel> channel)
    : settings_(std::move(settings)), channel_(std::move(channel)), session_id_(random_uuid()) {
  if (!settings_.token.empty()) redact(settings_.token);
}

std::shared_ptr<SparkSession> SparkSession::connect(const SparkConnectSettings& settings) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(-1);  // Arrow batches can exceed gRPC's 4 MiB default
  arguments.SetMaxSendMessageSize(-1);
  arguments.SetUserAgentPrefix(kClientType);
  auto credentials = settings.use_ssl ? grpc::SslCredentials(grpc::SslCredentialsOptions())
                                      : grpc::InsecureChannelCredentials();
  auto channel = std::make_shared<Channel>();
  channel->channel = grpc::CreateCustomChannel(settings.target(), credentials, arguments);
  const auto deadline = std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(settings.connect_timeout_seconds * 1000));
  if (!channel->channel->WaitForConnected(deadline)) {
    throw ServiceError(fmt::format(
        "cannot reach Spark Connect at {} within {:g} s: is the Spark cluster running?", settings.describe(),
        settings.connect_timeout_seconds), "spark");
  }
  channel->stub = proto::SparkConnectService::NewStub(channel->channel);

  std::shared_ptr<SparkSession> session(new SparkSession(settings, channel));
  proto::AnalyzePlanRequest request;
  session->stamp(request);
  request.mutable_spark_version();
  proto::AnalyzePlanResponse response;
  auto context = make_context(settings, std::max(30.0, settings.connect_timeout_seconds));
  const auto status = channel->stub->AnalyzePlan(context.get(), request, &response);
  if (!status.ok()) session->fail("version request", status.error_code(), status.error_message());
  session->spark_version_ = response.spark_version().version();
  return session;
}

SparkSession::~SparkSession() {
  if (!channel_ || !channel_->stub) return;
  proto::ReleaseSessionRequest request;
  request.set_session_id(session_id_);
  request.mutable_user_context()->set_user_id(settings_.user_id);
  request.set_client_type(kClientType);
  proto::ReleaseSessionResponse response;
  auto context = make_context(settings_, 5);
  channel_->stub->ReleaseSession(context.get(), request, &response);  // best effort: the server times sessions out
}

template <typename Request>
void SparkSession::stamp(Request& request) const {
  request.set_session_id(session_id_);
  request.mutable_user_context()->set_user_id(settings_.user_id);
  request.set_client_type(kClientType);
}

void SparkSession::redact(const std::string& secret) {
  if (!secret.empty()) secrets_.push_back(secret);
}

void SparkSession::fail(const std::string& what, int code, const std::string& message) const {
  const std::string text = mask_secrets(first_lines(message), secrets_);
  const auto status = static_cast<grpc::StatusCode>(code);
  if (status == grpc::StatusCode::UNAVAILABLE) {
    throw ServiceError(fmt::format("Spark Connect at {} became unreachable during {}: {}", settings_.describe(),
                                   what, text));
  }
  if (status == grpc::StatusCode::UNAUTHENTICATED || status == grpc::StatusCode::PERMISSION_DENIED) {
    throw ServiceError(fmt::format("Spark Connect at {} refused {} (check the token in SPARK_CONNECT_URL): {}",
                                   settings_.describe(), what, text));
  }
  throw ServiceError(fmt::format("Spark {} failed: {}", what, text));
}

SparkResult SparkSession::execute(const proto::Plan& plan, const std::string& what) {
  proto::ExecutePlanRequest request;
  stamp(request);
  request.set_operation_id(random_uuid());
  *request.mutable_plan() = plan;
  auto context = make_context(settings_);
  auto reader = channel_->stub->ExecutePlan(context.get(), request);

  SparkResult result;
  std::shared_ptr<arrow::Schema> schema;
  std::vector<std::shared_ptr<arrow::RecordBatch>> batches;
  proto::ExecutePlanResponse response;
  std::string decode_error;
  while (reader->Read(&response)) {
    if (!response.has_arrow_batch() || !decode_error.empty()) continue;
    // Each arrow_batch is a complete Arrow IPC stream: a schema message and its batches.
    auto buffer = arrow::Buffer::FromString(std::move(*response.mutable_arrow_batch()->mutable_data()));
    auto stream = arrow::ipc::RecordBatchStreamReader::Open(std::make_shared<arrow::io::BufferReader>(buffer));
    if (!stream.ok()) {
      decode_error = stream.status().ToString();
      continue;
    }
    if (!schema) schema = (*stream)->schema();
    while (true) {
      auto batch = (*stream)->Next();
      if (!batch.ok()) {
        decode_error = batch.status().ToString();
        break;
      }
      if (!*batch) break;
      result.rows += (*batch)->num_rows();
      batches.push_back(std::move(*batch));
    }
  }
  const auto status = reader->Finish();
  if (!status.ok()) fail(what, status.error_code(), status.error_message());
  if (!decode_error.empty()) throw ServiceError(fmt::format("Spark {}: cannot decode the Arrow result: {}", what, decode_error));
  if (schema) {
    auto table = arrow::Table::FromRecordBatches(schema, batches);
    if (!table.ok()) throw ServiceError(fmt::format("Spark {}: {}", what, table.status().ToString()));
    result.table = *table;
  }
  return result;
}

void SparkSession::set_config(const std::string& key, const std::string& value) {
  proto::ConfigRequest request;
  stamp(request);
  auto* pair = request.mutable_operation()->mutable_set()->add_pairs();
  pair->set_key(key);
  pair->set_value(value);
  proto::ConfigResponse response;
  auto context = make_context(settings_, 60);
  const auto status = channel_->stub->Config(context.get(), request, &response);
  if (!status.ok()) fail("config " + key, status.error_code(), status.error_message());
}

std::optional<std::string> SparkSession::get_config(const std::string& key) {
  proto::ConfigRequest request;
  stamp(request);
  request.mutable_operation()->mutable_get_option()->add_keys(key);
  proto::ConfigResponse response;
  auto context = make_context(settings_, 60);
  const auto status = channel_->stub->Config(context.get(), request, &response);
  if (!status.ok()) fail("config " + key, status.error_code(), status.error_message());
  if (response.pairs_size() != 1 || !response.pairs(0).has_value()) return std::nullopt;
  return response.pairs(0).value();
}

DataFrame SparkSession::sql(const std::string& query) {
  proto::Relation relation;
  relation.mutable_sql()->set_query(query);
  return DataFrame(shared_from_this(), std::move(relation));
}

DataFrame SparkSession::read(const std::string& format, const std::vector<std::string>& paths,
                             const std::map<std::string, std::string>& options) {
  proto::Relation relation;
  auto* source = relation.mutable_read()->mutable_data_source();
  source->set_format(format);
  for (const auto& path : paths) source->add_paths(path);
  for (const auto& [key, value] : options) (*source->mutable_options())[key] = value;
  return DataFrame(shared_from_this(), std::move(relation));
}

DataFrame SparkSession::read_parquet(const std::string& path) { return read("parquet", {path}); }

DataFrame SparkSession::read_jdbc(const std::string& url, const std::string& table,
                                  const std::map<std::string, std::string>& properties) {
  auto options = properties;
  options["url"] = url;
  options["dbtable"] = table;
  if (auto password = properties.find("password"); password != properties.end()) redact(password->second);
  return read("jdbc", {}, options);
}

}  // namespace datalab::spark
