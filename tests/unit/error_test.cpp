// The error model (core/error.h): each kind maps to one exit code, and the CLI's
// `catch (const Error&)` sees every kind.
#include "core/error.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <type_traits>

using namespace datalab;

namespace {

// What main() does with an exception: the exit code of the most derived kind.
int exit_code_of(const std::function<void()>& fail) {
  try {
    fail();
  } catch (const Error& e) {
    return e.exit_code();
  }
  return 0;
}

}  // namespace

TEST(ErrorModel, EachKindMapsToOneExitCode) {
  EXPECT_EQ(exit_code_of([] { throw Error("failed"); }), 1);
  EXPECT_EQ(exit_code_of([] { throw ConfigError("bad flag"); }), 2);
  EXPECT_EQ(exit_code_of([] { throw MissingSchemaError("library"); }), 2);
  EXPECT_EQ(exit_code_of([] { throw ServiceError("down", "postgres"); }), 3);
  EXPECT_EQ(exit_code_of([] { throw RejectedRows("2 rows rejected", 2); }), 4);
}

TEST(ErrorModel, RejectedRowsCarriesItsCountAndMessage) {
  try {
    throw RejectedRows("3 rows rejected (reasons above)", 3);
  } catch (const Error& e) {
    const auto* rejected = dynamic_cast<const RejectedRows*>(&e);
    ASSERT_NE(rejected, nullptr);
    EXPECT_EQ(rejected->rows(), 3);
    EXPECT_STREQ(e.what(), "3 rows rejected (reasons above)");
  }
}

TEST(ErrorModel, KindsKeepTheirContext) {
  const ServiceError service("cannot connect", "spark");
  EXPECT_EQ(service.unreachable_service(), "spark");
  EXPECT_EQ(ServiceError("query failed").unreachable_service(), "");
  const MissingSchemaError missing("star");
  EXPECT_EQ(missing.schema(), "star");
  EXPECT_STREQ(missing.what(), "schema 'star' does not exist");
}

// Only the kinds choose a code: Error's (message, code) constructor is not public.
static_assert(!std::is_constructible_v<Error, std::string, int>);
static_assert(std::is_constructible_v<Error, std::string>);
static_assert(std::is_base_of_v<Error, RejectedRows> && std::is_base_of_v<Error, ServiceError>);
