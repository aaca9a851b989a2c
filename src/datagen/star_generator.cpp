#include "datagen/star_generator.h"

#include <cctype>

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "datagen/fake_words.h"
#include "datagen/random.h"

namespace datalab {

namespace {

constexpr std::array<std::string_view, 8> kCategories = {"Watch", "Jewelry", "Car", "Phone",
                                                         "Laptop", "Bag", "Shoes", "Camera"};

void ok(const arrow::Status& status) {
  if (!status.ok()) throw Error("star data generation: " + status.ToString());
}
template <typename Builder>
std::shared_ptr<arrow::Array> finish(Builder& builder) {
  auto result = builder.Finish();
  if (!result.ok()) throw Error("star data generation: " + result.status().ToString());
  return *result;
}

// The id of the i-th row of a round: round 1 is everyone, round 2 every tenth.
int64_t id_in_round(int round, int64_t index) {
  return round == 1 ? index + 1 : (index + 1) * StarGenerator::kChangeEvery;
}

int64_t product_price_cents(uint64_t seed, int64_t product_id) {
  return Rng::for_stream(seed ^ 0x9121CEULL, static_cast<uint64_t>(product_id)).uniform(500, 2'000'000);
}

}  // namespace

StarGenerator::StarGenerator(StarSizes sizes, uint64_t seed) : sizes_(sizes), seed_(seed) {
  for (auto [name, n] : {std::pair{"customers", sizes.customers}, {"products", sizes.products}, {"sales", sizes.sales}}) {
    if (n < 0) throw ConfigError(fmt::format("--{} must not be negative", name));
  }
  if (sizes.sales > 0 && (sizes.customers == 0 || sizes.products == 0)) {
    throw ConfigError("sales need at least one customer and one product");
  }
}

std::shared_ptr<arrow::Schema> StarGenerator::customers_schema() {
  static auto schema = arrow::schema({arrow::field("round", arrow::int32(), false),
                                      arrow::field("customer_id", arrow::int64(), false),
                                      arrow::field("name", arrow::utf8(), false),
                                      arrow::field("email", arrow::utf8(), false),
                                      arrow::field("phone", arrow::utf8(), false)});
  return schema;
}

std::shared_ptr<arrow::Schema> StarGenerator::products_schema() {
  static auto schema = arrow::schema({arrow::field("round", arrow::int32(), false),
                                      arrow::field("product_id", arrow::int64(), false),
                                      arrow::field("name", arrow::utf8(), false),
                                      arrow::field("category", arrow::utf8(), false)});
  return schema;
}

std::shared_ptr<arrow::Schema> StarGenerator::sales_schema() {
  static auto schema = arrow::schema({arrow::field("sale_id", arrow::int64(), false),
                                      arrow::field("customer_id", arrow::int64(), false),
                                      arrow::field("product_id", arrow::int64(), false),
                                      arrow::field("quantity", arrow::int32(), false),
                                      arrow::field("amount", arrow::decimal128(12, 2), false),
                                      arrow::field("sale_time", arrow::timestamp(arrow::TimeUnit::MICRO), false)});
  return schema;
}

std::shared_ptr<arrow::RecordBatch> StarGenerator::customers(int round, int64_t begin, int64_t count) const {
  arrow::Int32Builder rounds;
  arrow::Int64Builder ids;
  arrow::StringBuilder names, emails, phones;
  ok(rounds.Reserve(count)); ok(ids.Reserve(count));
  for (int64_t i = begin; i < begin + count; ++i) {
    const int64_t id = id_in_round(round, i);
    Rng rng = Rng::for_stream(seed_, static_cast<uint64_t>(id));
    const auto first = rng.pick(words::kFirstNames);
    const auto last = rng.pick(words::kLastNames);
    const auto domain = rng.pick(words::kEmailDomains);
    int64_t phone = rng.uniform(10'000'000, 99'999'999);
    std::string email = fmt::format("{}.{}{}@{}", first, last, id, domain);
    if (round > 1) {  // a move: new phone number and a new mailbox
      phone = (phone + 1'234'567) % 90'000'000 + 10'000'000;
      email = fmt::format("{}.{}{}.r{}@{}", first, last, id, round, domain);
    }
    for (auto& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    rounds.UnsafeAppend(round);
    ids.UnsafeAppend(id);
    ok(names.Append(fmt::format("{} {}", first, last)));
    ok(emails.Append(email));
    ok(phones.Append(fmt::format("+9715{}", phone)));
  }
  return arrow::RecordBatch::Make(customers_schema(), count,
                                  {finish(rounds), finish(ids), finish(names), finish(emails), finish(phones)});
}

std::shared_ptr<arrow::RecordBatch> StarGenerator::products(int round, int64_t begin, int64_t count) const {
  arrow::Int32Builder rounds;
  arrow::Int64Builder ids;
  arrow::StringBuilder names, categories;
  ok(rounds.Reserve(count)); ok(ids.Reserve(count));
  for (int64_t i = begin; i < begin + count; ++i) {
    const int64_t id = id_in_round(round, i);
    Rng rng = Rng::for_stream(seed_ ^ 0x960D0C7ULL, static_cast<uint64_t>(id));
    const auto adjective = rng.pick(words::kAdjectives);
    const auto noun = rng.pick(words::kNouns);
    auto category = static_cast<std::size_t>(rng.uniform(0, kCategories.size() - 1));
    if (round > 1) category = (category + static_cast<std::size_t>(round) - 1) % kCategories.size();  // re-categorized
    rounds.UnsafeAppend(round);
    ids.UnsafeAppend(id);
    ok(names.Append(fmt::format("{} {} {}", adjective, noun, id)));
    ok(categories.Append(kCategories[category]));
  }
  return arrow::RecordBatch::Make(products_schema(), count,
                                  {finish(rounds), finish(ids), finish(names), finish(categories)});
}

std::shared_ptr<arrow::RecordBatch> StarGenerator::sales(int64_t begin, int64_t count) const {
  static const int64_t kYearStartUs = int64_t{days_from_civil(2024, 1, 1)} * 86'400'000'000LL;
  constexpr int64_t kYearSeconds = 366LL * 86'400;
  arrow::Int64Builder sale_ids, customer_ids, product_ids;
  arrow::Int32Builder quantities;
  arrow::Decimal128Builder amounts(arrow::decimal128(12, 2));
  arrow::TimestampBuilder times(arrow::timestamp(arrow::TimeUnit::MICRO), arrow::default_memory_pool());
  ok(sale_ids.Reserve(count)); ok(customer_ids.Reserve(count)); ok(product_ids.Reserve(count));
  ok(quantities.Reserve(count)); ok(amounts.Reserve(count)); ok(times.Reserve(count));
  for (int64_t i = begin; i < begin + count; ++i) {
    Rng rng = Rng::for_stream(seed_ ^ 0x5A1E5ULL, static_cast<uint64_t>(i));
    const int64_t product = rng.uniform(1, sizes_.products);
    const auto quantity = static_cast<int32_t>(rng.uniform(1, 5));
    sale_ids.UnsafeAppend(i + 1);
    customer_ids.UnsafeAppend(rng.uniform(1, sizes_.customers));
    product_ids.UnsafeAppend(product);
    quantities.UnsafeAppend(quantity);
    amounts.UnsafeAppend(arrow::Decimal128(product_price_cents(seed_, product) * quantity));
    times.UnsafeAppend(kYearStartUs + rng.uniform(0, kYearSeconds - 1) * 1'000'000);
  }
  return arrow::RecordBatch::Make(sales_schema(), count,
                                  {finish(sale_ids), finish(customer_ids), finish(product_ids), finish(quantities),
                                   finish(amounts), finish(times)});
}

}  // namespace datalab
