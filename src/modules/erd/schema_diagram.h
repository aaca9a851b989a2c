#pragma once
// An entity-relationship diagram of a catalog schema as Graphviz DOT, and rendering it
// with Graphviz's `dot` to PNG or SVG.
#include <string>

#include "storage/postgres/postgres_catalog.h"

namespace datalab::erd {

// One node per table (columns with types and PK/FK/UQ marks, partial unique indexes
// below), one edge per foreign key from the referencing column to the referenced one.
std::string to_dot(const CatalogSchema& schema);

// Writes `dot_text` to `path`: as DOT for .dot/.gv, else rendered by `dot -T<extension>`
// (png, svg, pdf). Throws Error when Graphviz is missing or fails.
void write_diagram(const std::string& dot_text, const std::string& path);

}  // namespace datalab::erd
