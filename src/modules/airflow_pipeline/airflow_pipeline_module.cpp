#include "modules/airflow_pipeline/airflow_pipeline_module.h"

#include <fmt/format.h>

#include "core/error.h"
#include "modules/airflow_pipeline/delivery_pipeline.h"

namespace datalab::airflow_pipeline {

void AirflowPipelineModule::add_run_flags(CLI::App& command) {
  command.add_option("--max-files", max_files_, "upload at most this many files (0: every file at the bucket root)")
      ->capture_default_str();
}

void AirflowPipelineModule::run(AppContext& context) {
  Report report(context.format);
  auto pipeline = DeliveryPipeline::from(context.config);
  report.note(fmt::format("airflow_pipeline: PostgreSQL {} <- object store {}, bucket {}",
                          pipeline.postgres().describe(), pipeline.store().settings().describe(),
                          pipeline.store().bucket()));
  pipeline.setup();
  const auto seeded = pipeline.seed_files();
  report.summary("delivery files", {{"written", fmt::format("{}", fmt::join(seeded.written, ", "))},
                                    {"skipped (at the root or processed)", fmt::format("{}", fmt::join(seeded.skipped, ", "))}});

  ResultTable uploads{{"file", "moved to", "rows", "inserted", "seconds"},
                      {ValueKind::Text, ValueKind::Text, ValueKind::Number, ValueKind::Number, ValueKind::Number},
                      {}};
  int uploaded = 0;
  while (max_files_ <= 0 || uploaded < max_files_) {
    const auto result = pipeline.upload();
    if (result.rejected) {  // a bad file is moved aside; the next one is loaded
      report.note(fmt::format("rejected {} -> {}: {}", result.source_file, result.rejected_key, result.reason));
      continue;
    }
    if (!result.loaded) break;
    ++uploaded;
    uploads.add_row({result.source_file, result.processed_key, std::to_string(result.file_rows),
                     std::to_string(result.rows_inserted), fmt::format("{:.3f}", result.seconds)});
  }
  report.table(uploaded ? fmt::format("uploaded {} file(s)", uploaded) : "nothing left to upload", uploads);

  const auto check = pipeline.validate_last_upload();
  if (!check.found) {
    report.note("no processed file to validate");
    report.finish();
    return;
  }
  report.summary("data-quality check of the last upload",
                 {{"file", check.processed_key},
                  {"result", check.valid ? "valid" : "INVALID"},
                  {"rows in the file", std::to_string(check.expected_rows)},
                  {"rows loaded", std::to_string(check.actual_rows)},
                  {"check id", std::to_string(check.check_id)}});
  report.finish();
  // The loaded rows do not match the file's: the rows missing (or extra) are the rejected ones.
  if (!check.valid) {
    const int64_t missing = check.expected_rows - check.actual_rows;
    throw RejectedRows(fmt::format("module {} failed", name()), missing < 0 ? -missing : missing);
  }
}

ModuleFootprint AirflowPipelineModule::footprint(const Config& config) const {
  // The delivery bucket is the pipeline's own: files waiting at its root, processed/, rejected/.
  return {{"airflow_pipeline"}, {}, {{config.value("DELIVERY_BUCKET"), ""}}, {}, {}};
}

std::unique_ptr<Module> make_module() { return std::make_unique<AirflowPipelineModule>(); }

}  // namespace datalab::airflow_pipeline
