#pragma once
// Random (version 4) UUIDs: Spark Connect session and operation ids, Iceberg table and file ids.
#include <string>

namespace datalab {

std::string random_uuid();

}  // namespace datalab
