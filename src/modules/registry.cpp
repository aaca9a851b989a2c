#include "modules/airflow_pipeline/airflow_pipeline_module.h"
#include "modules/clickhouse/clickhouse_module.h"
#include "modules/data_vault/data_vault_module.h"
#include "modules/kafka_pipeline/kafka_pipeline_module.h"
#include "modules/library/library_module.h"
#include "modules/module.h"
#include "modules/s3_upload/s3_upload_module.h"
#include "modules/spark_upload/spark_upload_module.h"
#include "modules/partition/partition_module.h"
#include "modules/star/star_module.h"

namespace datalab {

std::vector<std::unique_ptr<Module>> make_modules() {
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(std::make_unique<library::LibraryModule>());
  modules.push_back(std::make_unique<star::StarModule>());
  modules.push_back(std::make_unique<data_vault::DataVaultModule>());
  modules.push_back(std::make_unique<partition::PartitionModule>());
  modules.push_back(std::make_unique<kafka_pipeline::KafkaPipelineModule>());
  modules.push_back(std::make_unique<s3_upload::S3UploadModule>());
  modules.push_back(std::make_unique<spark_upload::SparkUploadModule>());
  modules.push_back(std::make_unique<clickhouse::ClickHouseModule>());
  modules.push_back(std::make_unique<airflow_pipeline::AirflowPipelineModule>());
  return modules;
}

}  // namespace datalab
