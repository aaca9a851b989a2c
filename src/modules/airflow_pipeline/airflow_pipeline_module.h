#pragma once
// Week 9: the delivery pipeline without Airflow — write the five delivery files to bucket
// `delivery`, upload them one by one (as POST /upload does), validate the last upload and
// print a summary. `datalab serve` runs the same steps behind HTTP for the Airflow DAG.
#include <string>

#include "modules/module.h"

namespace datalab::airflow_pipeline {

class AirflowPipelineModule : public Module {
 public:
  std::string name() const override { return "airflow_pipeline"; }
  std::string summary() const override {
    return "delivery files on S3 -> PostgreSQL with data-quality checks (week 9; `datalab serve` for Airflow)";
  }
  void add_run_flags(CLI::App& command) override;
  void run(AppContext& context) override;
  ModuleFootprint footprint(const Config& config) const override;

 private:
  int max_files_ = 0;  // 0: all files at the bucket root
};

}  // namespace datalab::airflow_pipeline
