#pragma once
// Writes rejected rows of one load into spark_upload.products_rejected (binary COPY).
#include <string>
#include <vector>

#include "modules/spark_upload/rejected_row.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::spark_upload {

void write_rejected_rows(PgConnection& db, const std::string& source, const std::vector<RejectedRow>& rows);

}  // namespace datalab::spark_upload
