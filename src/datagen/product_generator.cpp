#include "datagen/product_generator.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string_view>

#include <fmt/format.h>

#include "core/error.h"
#include "datagen/random.h"

namespace datalab {

namespace {

constexpr std::array<std::string_view, 40> kKinds = {
    "Laptop", "Mouse", "Keyboard", "Monitor", "Headphones", "Tablet", "Smartphone", "Printer", "Scanner",
    "Router", "Webcam", "Speaker", "Microphone", "Charger", "Power Bank", "USB Cable", "Memory Card", "SSD",
    "Hard Drive", "Smart Watch", "Camera", "Lens", "Tripod", "Projector", "Game Console", "Controller",
    "E-reader", "Desk Lamp", "Kettle", "Toaster", "Blender", "Microwave", "Vacuum Cleaner", "Fan", "Heater",
    "Backpack", "Water Bottle", "Umbrella", "Notebook", "Pen"};

// The invalid variants, in turn.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kBadRows = {{
    {"", "19.99"},           // missing product name
    {"Broken Widget", ""},   // missing price
    {"Mystery Box", "n/a"},  // price is not a number
    {"Refund Voucher", "-5.00"},  // negative price
}};

}  // namespace

ProductCsvStats write_products_csv(const std::string& path, int64_t rows, uint64_t seed, int64_t bad_rows) {
  if (rows < 0 || bad_rows < 0 || bad_rows > rows) {
    throw ConfigError(fmt::format("product rows must be >= 0 and bad rows between 0 and rows (got {} and {})", rows,
                                  bad_rows));
  }
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  std::unique_ptr<FILE, decltype(&fclose)> file(fopen(path.c_str(), "wb"), &fclose);
  if (!file) throw Error(fmt::format("cannot write products CSV '{}'", path));
  std::string buffer = "Product,Price\n";
  ProductCsvStats stats;
  // Every (rows / bad_rows)-th row is invalid, so they spread across the file.
  const int64_t stride = bad_rows > 0 ? rows / bad_rows : 0;
  for (int64_t i = 0; i < rows; ++i) {
    if (stride > 0 && i % stride == stride - 1 && stats.bad_rows < bad_rows) {
      const auto& [name, price] = kBadRows[static_cast<std::size_t>(stats.bad_rows % kBadRows.size())];
      fmt::format_to(std::back_inserter(buffer), "{},{}\n", name, price);
      ++stats.bad_rows;
    } else {
      auto rng = Rng::for_stream(seed, static_cast<uint64_t>(i));
      const auto kind = rng.pick(kKinds);
      const int64_t model = rng.uniform(100, 9999);
      const int64_t cents = rng.uniform(100, 99999);
      fmt::format_to(std::back_inserter(buffer), "{} {},{}.{:02d}\n", kind, model, cents / 100, cents % 100);
    }
    if (buffer.size() > (1 << 20)) {
      stats.bytes += static_cast<int64_t>(fwrite(buffer.data(), 1, buffer.size(), file.get()));
      buffer.clear();
    }
  }
  stats.bytes += static_cast<int64_t>(fwrite(buffer.data(), 1, buffer.size(), file.get()));
  stats.rows = rows;
  if (fflush(file.get()) != 0) throw Error(fmt::format("cannot write products CSV '{}'", path));
  return stats;
}

}  // namespace datalab
