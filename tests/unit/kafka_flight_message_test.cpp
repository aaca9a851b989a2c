// The flight.v1 message without a broker: encoding, every validation rule and its reason,
// the dead-letter envelope, and the generator the module fills flights with.
#include <tuple>

#include <gtest/gtest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "datagen/flight_generator.h"
#include "modules/kafka_pipeline/bad_messages.h"
#include "modules/kafka_pipeline/flight_message.h"

using namespace datalab;
using namespace datalab::kafka_pipeline;
using nlohmann::json;

namespace {

FlightTextRow reference_row() {
  // The first row of the original's flights.csv, as PostgreSQL prints it.
  static const std::array<std::string, 16> text{"0", "Delta", "DL101", "ATL", "JFK", "2024-01-15 08:00:00+00",
                                                "2024-01-15 10:30:00+00", "150", "B737-800", "On Time",
                                                "150", "20", "10", "120", "15", "8"};
  FlightTextRow row;
  for (std::size_t i = 0; i < text.size(); ++i) row[i] = text[i];
  return row;
}

std::string encoded(const FlightTextRow& row) {
  std::string out;
  append_flight_message(out, row);
  return out;
}

std::string with(const std::string& field, const json& value) {
  auto message = json::parse(encoded(reference_row()));
  message["data"][field] = value;
  return message.dump();
}

std::string reason_for(const std::string& value) {
  const auto verdict = validate_flight_message(value);
  EXPECT_FALSE(verdict.row) << value;
  return verdict.reason;
}

}  // namespace

TEST(KafkaFlightMessage, EncodesSchemaVersionDataAndIsoTimes) {
  const auto message = json::parse(encoded(reference_row()));
  EXPECT_EQ(message["schema"], "flight.v1");
  EXPECT_EQ(message["data"]["flight_id"], 0);
  EXPECT_EQ(message["data"]["flight_number"], "DL101");
  EXPECT_EQ(message["data"]["departure_time"], "2024-01-15T08:00:00+00:00");
  EXPECT_EQ(message["data"]["booked_first_class"], 8);
  EXPECT_EQ(message["data"].size(), 16u);
}

TEST(KafkaFlightMessage, EscapesTextAndKeepsNullsAsNull) {
  auto row = reference_row();
  const std::string airline = "Quote \" back\\slash\ttab";
  row[1] = airline;
  row[8] = std::nullopt;
  const auto message = json::parse(encoded(row));
  EXPECT_EQ(message["data"]["airline"], airline);
  EXPECT_TRUE(message["data"]["aircraft_type"].is_null());
  EXPECT_EQ(reason_for(encoded(row)), "data.aircraft_type must be a string (got null)");
}

TEST(KafkaFlightValidation, AcceptsAGoodMessageAndKeepsTheUploadColumns) {
  const auto verdict = validate_flight_message(encoded(reference_row()));
  ASSERT_TRUE(verdict.row) << verdict.reason;
  EXPECT_EQ(verdict.row->flight_id, 0);
  EXPECT_EQ(verdict.row->origin, "ATL");
  EXPECT_EQ(verdict.row->departure_micros, 1'705'305'600'000'000);  // 2024-01-15T08:00:00Z
  EXPECT_EQ(verdict.row->arrival_micros, 1'705'314'600'000'000);    // 2024-01-15T10:30:00Z
  EXPECT_EQ(verdict.row->duration_minutes, 150);

  // One binary COPY tuple: 10 fields, each a big-endian length and the value.
  std::string copy;
  append_upload_copy_row(copy, *verdict.row);
  auto be = [&](std::size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(copy[at + i]);
    return v;
  };
  ASSERT_EQ(copy.size(), 2u + 12 + 9 + 9 + 7 + 7 + 12 + 12 + 8 + 12 + 11);
  EXPECT_EQ(be(0, 2), 10u);
  EXPECT_EQ(be(2, 4), 8u);  // flight_id bigint
  EXPECT_EQ(copy.substr(18, 5), "Delta");
  EXPECT_EQ(copy.substr(36, 3), "ATL");
  constexpr int64_t kPgEpoch = 946'684'800'000'000;  // 2000-01-01 in Unix microseconds
  EXPECT_EQ(be(46, 4), 8u);
  EXPECT_EQ(static_cast<int64_t>(be(50, 8)), 1'705'305'600'000'000 - kPgEpoch);
  EXPECT_EQ(static_cast<int64_t>(be(62, 8)), 1'705'314'600'000'000 - kPgEpoch);
  EXPECT_EQ(be(70, 4), 4u);
  EXPECT_EQ(be(74, 4), 150u);
  EXPECT_EQ(copy.substr(copy.size() - 7), "On Time");
}

TEST(KafkaFlightValidation, RejectsEachKindWithItsReason) {
  EXPECT_EQ(reason_for(""), "empty message");
  EXPECT_TRUE(reason_for("{\"schema\":").starts_with("invalid JSON: "));
  EXPECT_EQ(reason_for("[1,2]"), "message must be a JSON object (got array)");
  EXPECT_EQ(reason_for(R"({"data":{}})"), "missing field schema");
  EXPECT_EQ(reason_for(R"({"schema":"flight.v2","data":{}})"), R"(unsupported schema version "flight.v2" (expected "flight.v1"))");
  EXPECT_EQ(reason_for(R"({"schema":"flight.v1"})"), "missing field data");
  EXPECT_EQ(reason_for(R"({"schema":"flight.v1","data":[]})"), "data must be a JSON object (got array)");
  auto missing = json::parse(encoded(reference_row()));
  missing["data"].erase("status");
  EXPECT_EQ(reason_for(missing.dump()), "missing field data.status");
  EXPECT_EQ(reason_for(with("flight_id", "7")), "data.flight_id must be an integer (got string)");
  EXPECT_EQ(reason_for(with("duration_minutes", 1.5)), "data.duration_minutes must be an integer (got number)");
  EXPECT_EQ(reason_for(with("economy_seats", true)), "data.economy_seats must be an integer (got boolean)");
  EXPECT_EQ(reason_for(with("airline", 42)), "data.airline must be a string (got integer)");
  EXPECT_EQ(reason_for(with("origin", "atl")), "data.origin must be a three-letter IATA code (got 'atl')");
  EXPECT_EQ(reason_for(with("destination", "JFKX")), "data.destination must be a three-letter IATA code (got 'JFKX')");
  EXPECT_EQ(reason_for(with("destination", "ATL")), "data.origin and data.destination are the same airport");
  EXPECT_EQ(reason_for(with("arrival_time", "2024-01-15T08:00:00+00:00")),
            "data.arrival_time must be after data.departure_time");
  EXPECT_EQ(reason_for(with("departure_time", "2024-01-15 08:00:00")),
            "data.departure_time must be an ISO 8601 time with a zone (got '2024-01-15 08:00:00')");
  EXPECT_EQ(reason_for(with("departure_time", "2024-02-30T08:00:00Z")),
            "data.departure_time must be an ISO 8601 time with a zone (got '2024-02-30T08:00:00Z')");
  EXPECT_EQ(reason_for(with("business_seats", -1)), "data.business_seats must not be negative (got -1)");
  EXPECT_EQ(reason_for(with("booked_first_class", 11)), "data.booked_first_class (11) exceeds data.first_class_seats (10)");
  EXPECT_EQ(reason_for(with("duration_minutes", 3'000'000'000LL)), "data.duration_minutes is too large (got 3000000000)");
  EXPECT_EQ(reason_for(with("status", std::string(21, 'x'))), "data.status is longer than 20 characters");
  EXPECT_EQ(reason_for(with("status", "  ")), "data.status is empty");
}

TEST(KafkaFlightValidation, TextThatIsNotUtf8IsRejectedAndUtf8TextAccepted) {
  std::string good = encoded(reference_row());
  std::string accented = good;
  accented.replace(accented.find("Delta"), 5, "D\xc3\xa9lta");
  const auto verdict = validate_flight_message(accented);
  ASSERT_TRUE(verdict.row) << verdict.reason;
  EXPECT_EQ(verdict.row->airline, "D\xc3\xa9lta");
  std::string broken = good;
  broken.replace(broken.find("Delta"), 5, "D\xc3lta");  // a lead byte without its continuation
  EXPECT_TRUE(reason_for(broken).starts_with("invalid JSON: Invalid encoding in string.")) << reason_for(broken);
}

TEST(KafkaFlightValidation, ZonesAreAppliedBeforeComparingTimes) {
  // 10:00+02:00 is 08:00 UTC: before an arrival at 09:00 UTC.
  auto message = json::parse(encoded(reference_row()));
  message["data"]["departure_time"] = "2024-01-15T10:00:00+02:00";
  message["data"]["arrival_time"] = "2024-01-15T09:00:00Z";
  EXPECT_TRUE(validate_flight_message(message.dump()).row);
  EXPECT_EQ(parse_zoned_timestamp("1970-01-01T00:00:01.5Z"), 1'500'000);
  EXPECT_EQ(parse_zoned_timestamp("1970-01-01T01:00:00+0100"), 0);
  EXPECT_FALSE(parse_zoned_timestamp("1970-01-01T00:00:00+1"));
  EXPECT_EQ(iso_from_pg_timestamp("2024-01-15 08:00:00.25+05:30"), "2024-01-15T08:00:00.25+05:30");
}

TEST(KafkaFlightValidation, EveryInjectedBadMessageIsRejectedWithItsReason) {
  for (const auto& bad : injected_bad_messages()) {
    const auto reason = reason_for(bad.value);
    EXPECT_NE(reason.find(bad.reason), std::string::npos) << bad.kind << ": " << reason;
  }
}

TEST(KafkaDeadLetter, CarriesReasonAndTheOriginalMessage) {
  const auto letter = json::parse(dead_letter_value("missing field data", "it-one", 2, 41, "7", R"({"schema":"flight.v1"})"));
  EXPECT_EQ(letter["reason"], "missing field data");
  EXPECT_EQ(letter["original"]["topic"], "it-one");
  EXPECT_EQ(letter["original"]["partition"], 2);
  EXPECT_EQ(letter["original"]["offset"], 41);
  EXPECT_EQ(letter["original"]["key"], "7");
  EXPECT_EQ(letter["original"]["value"], R"({"schema":"flight.v1"})");
  const auto binary = json::parse(dead_letter_value("invalid JSON", "it-one", 0, 1, std::nullopt, "\xff\xfe"));
  EXPECT_TRUE(binary["original"]["key"].is_null());
  EXPECT_EQ(binary["original"]["value_base64"], "//4=");
  EXPECT_FALSE(binary["original"].contains("value"));
}

TEST(KafkaFlightValidation, RejectsDuplicateKeysInsteadOfTakingTheLast) {
  const std::string good = encoded(reference_row());
  ASSERT_TRUE(validate_flight_message(good).row);
  std::string twice = good;
  twice.replace(twice.find(R"("airline":"Delta")"), 17, R"("airline":"Delta","airline":"Evil Air")");
  EXPECT_EQ(reason_for(twice), R"(duplicate key "airline" in data)");
  EXPECT_EQ(reason_for(R"({"schema":"flight.v2","schema":"flight.v1","data":{}})"), R"(duplicate key "schema")");
  // An unknown field given twice is a duplicate too, and many keys are checked by sorting.
  std::string many = good.substr(0, good.size() - 2);
  for (int i = 0; i < 100; ++i) many += fmt::format(R"(,"extra{}":{})", i, i);
  EXPECT_TRUE(validate_flight_message(many + "}}").row);
  EXPECT_EQ(reason_for(many + R"(,"extra7":0}})"), R"(duplicate key "extra7" in data)");
}

TEST(KafkaDeadLetter, Sha256MatchesKnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(KafkaDeadLetter, CarriesSizeAndHashAndCutsAValueTooLargeToCarry) {
  const std::string small = R"({"schema":"flight.v1"})";
  const auto whole = json::parse(dead_letter_value("r", "it-one", 0, 1, "k", small));
  EXPECT_EQ(whole["original"]["value"], small);
  EXPECT_EQ(whole["original"]["value_bytes"], small.size());
  EXPECT_EQ(whole["original"]["value_sha256"], sha256_hex(small));
  EXPECT_EQ(whole["original"]["value_truncated"], false);

  // 1 MB of backslashes and control characters: escaped it would be several MB.
  std::string big = R"({"schema":"flight.v1","data":{"airline":")";
  for (int i = 0; i < 1'000'000; ++i) big += i % 2 ? std::string("\\") : std::string(1, '\x01');
  big += "\"}}";
  bool truncated = false;
  const std::string record = dead_letter_value("data.airline is longer than 100 characters", "it-one", 2, 7, "big",
                                               big, kDeadLetterMaxBytes, &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_LE(record.size(), kDeadLetterMaxBytes);
  const auto letter = json::parse(record);
  EXPECT_EQ(letter["reason"], "data.airline is longer than 100 characters");
  EXPECT_EQ(letter["original"]["value_truncated"], true);
  EXPECT_EQ(letter["original"]["value_bytes"], big.size());
  EXPECT_EQ(letter["original"]["value_sha256"], sha256_hex(big));
  const std::string kept = letter["original"]["value"];
  EXPECT_EQ(kept.size(), kDeadLetterKeptValueBytes);
  EXPECT_EQ(big.substr(0, kept.size()), kept);

  // A cut never splits a UTF-8 character; max_bytes 0 keeps none of the value.
  const std::string euros = std::string(kDeadLetterMaxBytes, 'x').replace(kDeadLetterKeptValueBytes - 1, 3, "\xe2\x82\xac");
  const auto cut = json::parse(dead_letter_value("r", "t", 0, 0, std::nullopt, euros));
  EXPECT_EQ(cut["original"]["value"].get<std::string>().size(), kDeadLetterKeptValueBytes - 1);
  const auto stub = json::parse(dead_letter_value("r", "t", 0, 0, "k", big, 0));
  EXPECT_EQ(stub["original"]["value"], "");
  EXPECT_EQ(stub["original"]["value_truncated"], true);
  EXPECT_EQ(stub["original"]["value_sha256"], sha256_hex(big));

  // A key too long is cut the same way, in the record and as the record's Kafka key.
  const std::string long_key(10'000, 'k');
  const auto keyed = json::parse(dead_letter_value("r", "t", 0, 0, long_key, small));
  EXPECT_EQ(keyed["original"]["key"].get<std::string>().size(), kDeadLetterKeptKeyBytes);
  EXPECT_EQ(keyed["original"]["key_truncated"], true);
  EXPECT_EQ(keyed["original"]["key_bytes"], long_key.size());
  EXPECT_EQ(keyed["original"]["key_sha256"], sha256_hex(long_key));
  EXPECT_EQ(dead_letter_key(long_key).size(), kDeadLetterKeptKeyBytes);
  EXPECT_EQ(dead_letter_key("short"), "short");
}

TEST(KafkaFlightGenerator, IsDeterministicAndValid) {
  const FlightGenerator generator(42);
  const auto a = generator.batch(100, 50);
  const auto b = generator.batch(100, 50);
  ASSERT_EQ(a->num_rows(), 50);
  EXPECT_TRUE(a->Equals(*b));
  EXPECT_FALSE(a->Equals(*FlightGenerator(7).batch(100, 50)));
  EXPECT_TRUE(a->schema()->Equals(*FlightGenerator::schema()));
  const auto ids = std::static_pointer_cast<arrow::Int64Array>(a->column(0));
  const auto origin = std::static_pointer_cast<arrow::StringArray>(a->column(3));
  const auto destination = std::static_pointer_cast<arrow::StringArray>(a->column(4));
  const auto departure = std::static_pointer_cast<arrow::TimestampArray>(a->column(5));
  const auto arrival = std::static_pointer_cast<arrow::TimestampArray>(a->column(6));
  for (int64_t i = 0; i < a->num_rows(); ++i) {
    EXPECT_EQ(ids->Value(i), 100 + i);
    EXPECT_NE(origin->GetString(i), destination->GetString(i));
    EXPECT_GT(arrival->Value(i), departure->Value(i));
    for (int seats = 10; seats < 13; ++seats) {
      const auto capacity = std::static_pointer_cast<arrow::Int32Array>(a->column(seats))->Value(i);
      const auto booked = std::static_pointer_cast<arrow::Int32Array>(a->column(seats + 3))->Value(i);
      EXPECT_LE(booked, capacity);
      EXPECT_GE(booked, 0);
    }
  }
}

TEST(KafkaDeadLetter, ReadsBackTheOriginalItCarriesWholeAndNothingItCut) {
  const std::string value = R"({"schema":"flight.v1"})";
  const auto text = parse_dead_letter_value(dead_letter_value("missing field data", "it-one", 2, 41, "7", value));
  ASSERT_TRUE(text);
  EXPECT_EQ(text->reason, "missing field data");
  EXPECT_EQ((std::tuple{text->topic, text->partition, text->offset}), (std::tuple{std::string("it-one"), 2, 41}));
  EXPECT_TRUE(text->has_key);
  EXPECT_EQ(text->key, "7");
  EXPECT_EQ(text->value, value);
  EXPECT_EQ(text->value_sha256, sha256_hex(value));

  // Bytes that are not UTF-8 come back from base64, every length of the last group.
  for (const std::string& bytes : {std::string("\xff"), std::string("\xff\xfe"), std::string("\xff\xfe\x00\x01", 4)}) {
    const auto binary = parse_dead_letter_value(dead_letter_value("invalid JSON", "t", 0, 1, std::nullopt, bytes));
    ASSERT_TRUE(binary);
    EXPECT_FALSE(binary->has_key);
    EXPECT_EQ(binary->value, bytes);
  }
  const auto binary_key = parse_dead_letter_value(dead_letter_value("r", "t", 0, 1, std::string("\xfe\x01"), value));
  ASSERT_TRUE(binary_key);
  EXPECT_EQ(binary_key->key, std::string("\xfe\x01"));

  // What was cut is not pretended whole: the replay reads the original from its topic.
  const auto stub = parse_dead_letter_value(dead_letter_value("r", "t", 0, 0, std::string(10'000, 'k'), value, 0));
  ASSERT_TRUE(stub);
  EXPECT_TRUE(stub->has_key);
  EXPECT_FALSE(stub->key);
  EXPECT_FALSE(stub->value);
  EXPECT_EQ(stub->value_bytes, static_cast<int64_t>(value.size()));

  std::string why;
  EXPECT_FALSE(parse_dead_letter_value("not json", &why));
  EXPECT_EQ(why, "not a JSON object");
  EXPECT_FALSE(parse_dead_letter_value(R"({"reason":"r","original":{"topic":"t"}})", &why));
  EXPECT_EQ(why, "no original topic, partition and offset");
}
