#include "core/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>

#include "core/error.h"

using namespace datalab;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

// Hides a variable of the surrounding environment (CI may set DB_PORT, ...) for one test.
class ScopedUnsetEnv {
 public:
  explicit ScopedUnsetEnv(const char* name) : name_(name) {
    if (const char* value = std::getenv(name)) saved_ = value;
    ::unsetenv(name);
  }
  ~ScopedUnsetEnv() {
    if (saved_) ::setenv(name_, saved_->c_str(), 1); else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

}  // namespace

TEST(Config, DefaultsAreTheOriginalProjectsSettings) {
  const auto config = Config::with_defaults();
  EXPECT_EQ(config.get("POSTGRES_DB"), "it_one");
  EXPECT_EQ(config.get("DB_PORT"), "10452");
  EXPECT_EQ(config.get("CLICKHOUSE_DB_PORT"), "10453");
  EXPECT_EQ(config.get("S3_BUCKET"), "s3-bucket");
  EXPECT_EQ(config.source_of("DB_PORT"), SettingSource::Default);
}

TEST(Config, PrecedenceIsDefaultsThenEnvFileThenEnvironmentThenFlags) {
  ScopedUnsetEnv port("DB_PORT"), host("DB_HOST"), db("POSTGRES_DB"), user("POSTGRES_USER");
  auto config = Config::with_defaults();
  const auto file = write_temp("datalab_precedence.env",
                               "DB_PORT=1111\nDB_HOST=file-host\nPOSTGRES_DB=file_db\n");
  config.load_env_file(file, true);
  ::setenv("DB_HOST", "env-host", 1);
  ::setenv("POSTGRES_DB", "env_db", 1);
  config.load_environment();
  config.set_from_flag("POSTGRES_DB=flag_db");
  // A late lower-priority layer must not override a higher one.
  config.load_env_file(file, true);

  EXPECT_EQ(config.get("DB_PORT"), "1111");
  EXPECT_EQ(config.source_of("DB_PORT"), SettingSource::EnvFile);
  EXPECT_EQ(config.get("DB_HOST"), "env-host");
  EXPECT_EQ(config.source_of("DB_HOST"), SettingSource::Environment);
  EXPECT_EQ(config.get("POSTGRES_DB"), "flag_db");
  EXPECT_EQ(config.source_of("POSTGRES_DB"), SettingSource::Flag);
  EXPECT_EQ(config.get("POSTGRES_USER"), "it_one");
}

TEST(Config, EnvFileSyntax) {
  const auto pairs = parse_env_text(
      "# comment\n\nexport A=1\nB = \"two words\"\nC='x#y'\nD=plain # trailing comment\nE=\n", "test.env");
  ASSERT_EQ(pairs.size(), 5u);
  EXPECT_EQ(pairs[0], std::make_pair(std::string("A"), std::string("1")));
  EXPECT_EQ(pairs[1].second, "two words");
  EXPECT_EQ(pairs[2].second, "x#y");
  EXPECT_EQ(pairs[3].second, "plain");
  EXPECT_EQ(pairs[4].second, "");
}

TEST(Config, MalformedEnvLineNamesFileAndLine) {
  try {
    parse_env_text("A=1\nthis is not a setting\n", "bad.env");
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.env:2"), std::string::npos) << e.what();
  }
}

TEST(Config, MissingRequiredEnvFileIsAnError) {
  auto config = Config::with_defaults();
  EXPECT_THROW(config.load_env_file("/nonexistent/datalab.env", true), ConfigError);
  EXPECT_NO_THROW(config.load_env_file("/nonexistent/datalab.env", false));
}

TEST(Config, SecretsAreMasked) {
  auto config = Config::with_defaults();
  config.set_from_flag("POSTGRES_PASSWORD=hunter2");
  config.set_from_flag("TG_TOKEN=123:abc");
  EXPECT_EQ(config.display("POSTGRES_PASSWORD"), "********");
  EXPECT_EQ(config.display("TG_TOKEN"), "********");
  EXPECT_EQ(config.display("POSTGRES_USER"), "it_one");
  config.set_from_flag("SPARK_CONNECT_URL=sc://spark:15002/;token=s3cr3t;user_id=ann");
  EXPECT_EQ(config.display("SPARK_CONNECT_URL"), "sc://spark:15002/;token=********;user_id=ann");
  EXPECT_TRUE(Config::is_secret("AWS_SECRET_ACCESS_KEY"));
  EXPECT_FALSE(Config::is_secret("AWS_ACCESS_KEY_ID"));
}

TEST(Config, IntegerSettingErrorNamesKeyButNotSecrets) {
  auto config = Config::with_defaults();
  config.set_from_flag("DB_PORT=abc");
  try {
    config.get_int("DB_PORT");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("DB_PORT"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("abc"), std::string::npos);
  }
  config.set_from_flag("POSTGRES_PASSWORD=s3cret");
  try {
    config.get_int("POSTGRES_PASSWORD");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
  }
}

TEST(Config, FlagWithoutEqualsIsRejected) {
  auto config = Config::with_defaults();
  EXPECT_THROW(config.set_from_flag("DB_PORT"), ConfigError);
  EXPECT_THROW(config.set_from_flag("1BAD=x"), ConfigError);
}

TEST(Config, ValidateRefusesValuesThatCanNeverBeValid) {
  EXPECT_NO_THROW(Config::with_defaults().validate());
  for (const char* port : {"abc", "-99999", "0", "65536", "70000", "10452x", "1.5"}) {
    auto config = Config::with_defaults();
    config.set_from_flag(std::string("DB_PORT=") + port);
    try {
      config.validate();
      ADD_FAILURE() << "DB_PORT=" << port << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("DB_PORT"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("from flag"), std::string::npos) << e.what();
      EXPECT_EQ(e.exit_code(), 2);
    }
  }
  auto config = Config::with_defaults();
  config.set_from_flag("CLICKHOUSE_NATIVE_PORT=65535");
  config.set_from_flag("TG_BACKOFF_SECONDS=0.25");
  EXPECT_NO_THROW(config.validate());
  config.set_from_flag("TG_ATTEMPTS=0");
  EXPECT_THROW(config.validate(), ConfigError);
}

TEST(Config, ValueIsTheSettingOrItsDefaultFromTheOneTable) {
  auto config = Config::with_defaults();
  EXPECT_EQ(config.value("DB_HOST"), "127.0.0.1");
  EXPECT_EQ(config.value("S3_REGION"), "us-east-1");
  EXPECT_EQ(config.value("BOOTSTRAP_SERVER"), "127.0.0.1:9092");
  config.set_from_flag("DB_HOST=db.example");
  EXPECT_EQ(config.value("DB_HOST"), "db.example");
  // An empty value means the built-in default...
  config.set_from_flag("DB_HOST=");
  config.set_from_flag("S3_BUCKET=");
  config.set_from_flag("TG_ATTEMPTS=");
  EXPECT_EQ(config.value("DB_HOST"), "127.0.0.1");
  EXPECT_EQ(config.value("S3_BUCKET"), "s3-bucket");
  EXPECT_EQ(config.get_int("TG_ATTEMPTS"), 4);
  EXPECT_EQ(config.get("DB_HOST"), "");  // get() shows what was set
  // ...except where empty is a value of its own: no password, no Spark Connect server.
  config.set_from_flag("POSTGRES_PASSWORD=");
  config.set_from_flag("CLICKHOUSE_PASSWORD=");
  config.set_from_flag("SPARK_CONNECT_URL=");
  EXPECT_EQ(config.value("POSTGRES_PASSWORD"), "");
  EXPECT_EQ(config.value("CLICKHOUSE_PASSWORD"), "");
  EXPECT_EQ(config.value("SPARK_CONNECT_URL"), "");
}

TEST(Config, ValueKnowsTheDefaultsWithoutWithDefaults) {
  const Config empty;
  EXPECT_EQ(empty.value("POSTGRES_DB"), "it_one");
  EXPECT_EQ(empty.value("CLICKHOUSE_DB_PORT"), "10453");
  EXPECT_EQ(empty.value("S3_ENDPOINT"), "");
  EXPECT_EQ(empty.get_int("DB_PORT"), 10452);
}

TEST(Config, ValueOfAnUnknownSettingIsAnError) {
  auto config = Config::with_defaults();
  config.load_env_file(write_temp("datalab_unknown.env", "NOT_A_DATALAB_SETTING=1\n"), true);
  EXPECT_EQ(config.get("NOT_A_DATALAB_SETTING"), "1");  // shown by `datalab config`
  for (const char* key : {"NOT_A_DATALAB_SETTING", "DB_HOTS", ""}) {
    try {
      config.value(key);
      ADD_FAILURE() << key << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("setting ") + key), std::string::npos) << e.what();
      EXPECT_EQ(e.exit_code(), 2);
    }
  }
  EXPECT_THROW(config.get_int("NOT_A_DATALAB_SETTING"), ConfigError);
}

TEST(Config, EnvFileSyntaxEdgeCases) {
  const auto pairs = parse_env_text(
      "  export   B = \"two words\"  \r\n"  // export, spaces around key and value, CRLF
      "F=\"unbalanced\n"                      // one quote: kept
      "G=\"a\" # c\n"                         // quoted then a comment: not a quoted value
      "H=a#b\n"                               // # without a space before it is part of the value
      "K=x=y=z\n"                             // the first = splits
      "J='\"nested\"'\n"
      "L=\"\n"
      "_M9=1\n"
      "O=last",
      "edge.env");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"B", "two words"}, {"F", "\"unbalanced"}, {"G", "\"a\""}, {"H", "a#b"}, {"K", "x=y=z"},
      {"J", "\"nested\""}, {"L", "\""},         {"_M9", "1"},    {"O", "last"}};
  EXPECT_EQ(pairs, expected);
  for (const char* bad : {"export\n", "export =1\n", "1A=x\n", "A-B=1\n", "A B=1\n"}) {
    EXPECT_THROW(parse_env_text(bad, "bad.env"), ConfigError) << bad;
  }
}

TEST(Config, MaskSecretsIsTheOneMask) {
  EXPECT_EQ(mask_secrets("login as ann:hunter2 failed (hunter2)", {"hunter2"}),
            "login as ann:******** failed (********)");
  EXPECT_EQ(mask_secrets("nothing to hide", {"", "absent"}), "nothing to hide");
  EXPECT_EQ(mask_secrets("a b", {"a", "b"}), "******** ********");
  EXPECT_EQ(mask_secrets("sc://h:1/;token=abc;user_id=ann"), "sc://h:1/;token=********;user_id=ann");
  EXPECT_EQ(mask_secrets("GET /x?token=abc&y=1 failed"), "GET /x?token=********&y=1 failed");
  EXPECT_EQ(mask_secrets("bot123:xyz/sendMessage", {"123:xyz"}), "bot********/sendMessage");
  // display() masks with the same function and mask.
  auto config = Config::with_defaults();
  config.set_from_flag("AWS_SECRET_ACCESS_KEY=k3y");
  EXPECT_EQ(config.display("AWS_SECRET_ACCESS_KEY"), std::string(kSecretMask));
  EXPECT_EQ(config.display("AWS_ACCESS_KEY_ID"), "");
}
