#include "modules/erd/schema_diagram.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "core/error.h"

extern char** environ;

namespace datalab::erd {

namespace {

std::string html(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A DOT double-quoted ID.
std::string dot_id(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string marks_for(const CatalogTable& table, const std::string& column) {
  std::set<std::string> marks;
  for (const auto& key : table.keys) {
    if (!contains(key.columns, column)) continue;
    if (key.kind == 'p') marks.insert("PK");
    if (key.kind == 'f') marks.insert("FK");
    if (key.kind == 'u') marks.insert(key.predicate.empty() ? "UQ" : "UQ*");
  }
  std::string text;
  for (const auto& mark : {"PK", "FK", "UQ", "UQ*"}) {
    if (marks.count(mark)) text += (text.empty() ? "" : " ") + std::string(mark);
  }
  return text;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Arrows leave a referencing column on the right edge of its row and enter the
// referenced column on the left edge of its row.
std::string outgoing_port(const std::string& column) { return column + "__out"; }

std::string table_node(const CatalogTable& table) {
  const bool is_fact_or_link = std::any_of(table.keys.begin(), table.keys.end(), [](const auto& k) { return k.kind == 'f'; });
  std::string label = fmt::format(
      "<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"4\">"
      "<tr><td colspan=\"3\" bgcolor=\"{}\"><font color=\"white\"><b>{}</b></font></td></tr>",
      is_fact_or_link ? "#8a4b08" : "#1f4e79", html(table.name));
  for (const auto& column : table.columns) {
    const std::string marks = marks_for(table, column.name);
    const bool primary = marks.find("PK") != std::string::npos;
    label += fmt::format(
        "<tr><td port={} align=\"left\">{}{}{}</td><td align=\"left\"><font color=\"#555555\">{}{}</font></td>"
        "<td port={} align=\"left\">{}</td></tr>",
        dot_id(column.name), primary ? "<b>" : "", html(column.name), primary ? "</b>" : "", html(column.type),
        column.not_null ? "" : " null", dot_id(outgoing_port(column.name)), marks.empty() ? " " : html(marks));
  }
  for (const auto& key : table.keys) {
    if (key.kind == 'u' && !key.predicate.empty()) {
      label += fmt::format("<tr><td colspan=\"3\" align=\"left\"><font point-size=\"9\">UQ* unique ({}) where {}</font></td></tr>",
                           html(join(key.columns)), html(key.predicate));
    }
  }
  label += "</table>";
  return fmt::format("  {} [label=<{}>];\n", dot_id(table.name), label);
}

}  // namespace

std::string to_dot(const CatalogSchema& schema) {
  std::string dot = fmt::format("digraph {} {{\n", dot_id(schema.name));
  dot += fmt::format(
      "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=16, labelloc=t, nodesep=0.4, ranksep=1.1, dpi=110,\n"
      "         label={}];\n"
      "  node [shape=plaintext, fontname=\"Helvetica\", fontsize=10];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#444444\", arrowhead=crow, arrowtail=none];\n",
      dot_id(fmt::format("schema {} (PK primary key, FK foreign key, UQ unique)", schema.name)));
  for (const auto& table : schema.tables) dot += table_node(table);
  std::set<std::string> tables;
  for (const auto& table : schema.tables) tables.insert(table.name);
  for (const auto& table : schema.tables) {
    for (const auto& key : table.keys) {
      if (key.kind != 'f' || !tables.count(key.referenced_table)) continue;
      // Many referencing rows to one referenced row: draw from the referencing column.
      dot += fmt::format("  {}:{}:e -> {}:{}:w [tooltip={}, dir=both, arrowhead=tee, arrowtail=crow];\n",
                         dot_id(table.name), dot_id(outgoing_port(key.columns.front())), dot_id(key.referenced_table),
                         dot_id(key.referenced_columns.empty() ? "" : key.referenced_columns.front()), dot_id(key.name));
    }
  }
  dot += "}\n";
  return dot;
}

void write_diagram(const std::string& dot_text, const std::string& path) {
  std::string extension = std::filesystem::path(path).extension().string();
  if (!extension.empty()) extension.erase(0, 1);
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  if (const auto parent = std::filesystem::path(path).parent_path(); !parent.empty()) {
    std::filesystem::create_directories(parent);
  }
  if (extension == "dot" || extension == "gv") {
    std::ofstream out(path);
    out << dot_text;
    if (!out) throw Error(fmt::format("cannot write '{}'", path));
    return;
  }
  if (extension != "png" && extension != "svg" && extension != "pdf") {
    throw ConfigError(fmt::format("'{}': the file name must end in .png, .svg, .pdf or .dot", path));
  }
  // Graphviz reads the DOT from a temporary file; it is spawned without a shell.
  const auto dot_file = std::filesystem::temp_directory_path() / fmt::format("datalab-erd-{}.dot", getpid());
  {
    std::ofstream out(dot_file);
    out << dot_text;
    if (!out) throw Error(fmt::format("cannot write '{}'", dot_file.string()));
  }
  const std::string format_flag = "-T" + extension;
  std::vector<std::string> args = {"dot", format_flag, "-o", path, dot_file.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "dot", nullptr, nullptr, argv.data(), environ);
  int status = 0;
  if (spawned == 0) waitpid(pid, &status, 0);
  std::filesystem::remove(dot_file);
  if (spawned != 0) {
    throw Error(fmt::format("cannot run Graphviz `dot` ({}): install the graphviz package (scripts/setup does)",
                            std::strerror(spawned)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(fmt::format("Graphviz `dot` failed to render '{}' (exit status {})", path,
                            WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  }
}

}  // namespace datalab::erd
