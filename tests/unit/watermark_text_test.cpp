// The watermark text the targets without SQL keep: read back as written, refused when taken
// with other columns or not datalab's.
#include <gtest/gtest.h>

#include "core/error.h"
#include "transfer/watermark_text.h"

namespace datalab::transfer {
namespace {

TEST(WatermarkText, RoundTripsCursorAndKeys) {
  const IncrementalFilter filter{"updated_at", {"id", "region"}, std::nullopt};
  const Watermark mark{"2024-05-01 10:00:00.000001+00", {"42", "eu \"west\""}};
  const Watermark back = parse_watermark_text(watermark_text(filter, mark), filter, "here");
  EXPECT_EQ(back.cursor, mark.cursor);
  EXPECT_EQ(back.key, mark.key);
}

TEST(WatermarkText, OtherColumnsAreAConfigErrorNamingBoth) {
  const IncrementalFilter taken{"updated_at", {"id"}, std::nullopt};
  const std::string text = watermark_text(taken, {"5", {"1"}});
  try {
    parse_watermark_text(text, {"id", {}, std::nullopt}, "topic t");
    FAIL() << "other columns were accepted";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("topic t holds a watermark for this source taken with --cursor updated_at --key id, not "
                           "--cursor id:"),
              std::string::npos)
        << message;
  }
  EXPECT_THROW(parse_watermark_text("{\"cursor\": 1}", taken, "x"), ServiceError);
  EXPECT_THROW(parse_watermark_text("not json", taken, "x"), ServiceError);
}

}  // namespace
}  // namespace datalab::transfer
