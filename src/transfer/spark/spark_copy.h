#pragma once
// `datalab copy --engine spark`: the same copy run on the Spark cluster through Spark Connect
// (SPARK_CONNECT_URL), for the ends Spark reaches here:
//   sources: PostgreSQL over JDBC (?table= or ?query=; read in parallel on a range of --key
//            when it names one integer column), Parquet / CSV / JSON Lines on S3 (s3a: one
//            file, a folder or a glob);
//   targets: PostgreSQL over JDBC, atomic like the native target: Spark appends into an
//            unlogged staging table, then one PostgreSQL transaction moves the rows (append,
//            replace = TRUNCATE + INSERT, merge = INSERT … ON CONFLICT (key) DO UPDATE) and
//            drops the stage; a failed copy leaves the target as it was and no stage behind.
//            Parquet on S3 into a folder (append adds part files, replace overwrites). This
//            is NOT atomic: Spark's file commit (FileOutputCommitter over S3A) deletes the old
//            files before the job and renames (copies) each part into place at job commit, so
//            readers can see a partial folder and a failed replace can leave the folder empty
//            or part written; only the _SUCCESS marker says a job completed.
// Other ends (ClickHouse, Iceberg, Kafka, local files) are a ConfigError that names the end
// and suggests --engine native; so are --incremental and --mode merge into files.
#include "core/config.h"
#include "transfer/copy_run.h"
#include "transfer/endpoint.h"

namespace datalab::transfer {

// Throws ConfigError before anything is written when Spark cannot do this copy.
void check_spark_copy(const Endpoint& source, const Endpoint& target, const CopyOptions& options);

// rows = what Spark wrote (counted in the staging table, or in the written files); bytes are
// not measured (0).
CopyResult run_spark_copy(const Endpoint& source, const Endpoint& target, const CopyOptions& options,
                          const Config& config);

}  // namespace datalab::transfer
