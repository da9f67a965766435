// Issue 12, items 5 and 6 (docs/design.md "Secrets"): real `run`, `sink` and `db` processes with
// a password in the DSN, in kafka.properties.sasl.password and for Redis, driven through
// start-up, start errors, a database outage and shutdown; nothing any of them writes may hold a
// secret. And Redis credentials that Redis refuses fail the start (or a running process) naming
// the key, instead of being retried forever.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "common/clock.hpp"
#include "common/event_time.hpp"
#include "db/postgres.hpp"
#include "tests/support/broker_test.hpp"
#include "tests/support/postgres_server.hpp"
#include "tests/support/redis_test_server.hpp"
#include "tests/support/redis_test_support.hpp"

namespace tastesync::testing {
namespace {

constexpr auto kWaitTimeout = std::chrono::seconds(90);

// Each secret holds the review's troublesome characters ('?', '%', "://", quotes, a space) after
// a stem of its own. The stem is written as it is in every form used below, so finding a stem
// anywhere in an output finds a secret or any piece of one.
const std::string kDsnPassword = R"(s3cret?%zz:// 'x"y)";
const std::string kKafkaPassword = R"(k4fka-pw?%zz:// 'x"y)";
const std::string kRedisPassword = R"(r3dis-pw?%zz:// 'x"y)";
// libpq echoes this one in its error: invalid percent-encoded token: "s3cret%zz".
const std::string kBadEscapePassword = "s3cret%zz";
const std::vector<std::string> kStems = {"s3cret", "k4fka-pw", "r3dis-pw"};

std::string percent_encoded(const std::string& text, bool lower_case, bool every_byte) {
  std::string out;
  for (const unsigned char c : text) {
    if (!every_byte && (std::isalnum(c) != 0 || c == '-')) {
      out += static_cast<char>(c);
      continue;
    }
    char encoded[4];
    std::snprintf(encoded, sizeof(encoded), lower_case ? "%%%02x" : "%%%02X", c);
    out += encoded;
  }
  return out;
}

// keyword=value with libpq's quoting: \' and \\ inside single quotes.
std::string keyword_quoted(const std::string& value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// Every form of every secret this test writes anywhere, and the stems.
std::vector<std::string> forbidden_texts() {
  std::vector<std::string> texts = kStems;
  for (const std::string& secret :
       {kDsnPassword, kKafkaPassword, kRedisPassword, kBadEscapePassword}) {
    texts.push_back(secret);
    for (const bool lower : {false, true}) {
      for (const bool every_byte : {false, true}) {
        texts.push_back(percent_encoded(secret, lower, every_byte));
      }
    }
    texts.push_back(keyword_quoted(secret));
  }
  return texts;
}

// A YAML single-quoted scalar: no escapes, a quote doubled.
std::string yaml_quoted(const std::string& value) {
  std::string out = "'";
  for (const char c : value) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class Secrets : public BrokerTest {
 protected:
  void SetUp() override {
    start_broker({"raw-beacons", "customer-events", "raw-beacons-dlq", "customer-events-sink-dlq"});
    write_file(dir() / "kafka-password", kKafkaPassword + "\n");
    write_file(dir() / "redis-password", kRedisPassword + "\n");
    write_file(dir() / "uri-dsn", uri_dsn() + "\n");
  }

  // The same database and password, in libpq's two forms.
  std::string keyword_dsn() const {
    return "host=127.0.0.1 port=" + std::to_string(postgres_.port()) +
           " user=tastesync dbname=tastesync password=" + keyword_quoted(kDsnPassword);
  }
  std::string uri_dsn() const {
    return "postgresql://tastesync:" + percent_encoded(kDsnPassword, false, false) +
           "@127.0.0.1:" + std::to_string(postgres_.port()) + "/tastesync";
  }
  std::string redis_address() const { return "127.0.0.1:" + std::to_string(redis_.port()); }

  // A process that ran to its end: its output is kept for the final check.
  RunResult run_to_end(const std::string& name, const std::vector<std::string>& arguments,
                       const Environment& environment = {}) {
    RunResult result = run_tastesync(dir(), name, arguments, environment);
    outputs_.emplace_back(name, result.stdout_text + result.stderr_text);
    return result;
  }
  void keep_output(const Subprocess& process) {
    outputs_.emplace_back(process.name(), process.stdout_text() + process.stderr_text());
  }

  void expect_no_secret_in_any_output() {
    ASSERT_FALSE(outputs_.empty());
    const auto forbidden = forbidden_texts();
    for (const auto& [name, text] : outputs_) {
      EXPECT_FALSE(text.empty()) << name << " wrote nothing: the check would prove nothing";
      for (const std::string& secret : forbidden) {
        const auto at = text.find(secret);
        EXPECT_EQ(at, std::string::npos)
            << name << " wrote " << secret
            << " in: " << text.substr(at == std::string::npos ? 0 : (at < 200 ? 0 : at - 200), 400);
      }
    }
  }

  static bool logged(const Subprocess& process, const std::string& text) {
    return process.stderr_text().find(text) != std::string::npos;
  }

  std::size_t stored_rows() {
    try {
      auto connection = connect_postgres(postgres_.dsn(), "secrets_test");
      pqxx::read_transaction read(*connection);
      return read.exec1("SELECT count(*) FROM customer_identities")[0].as<std::size_t>();
    } catch (const std::exception&) {
      return 0;
    }
  }

  PostgresServer postgres_;
  RedisTestServer redis_{RedisTestServerAuth{.requirepass = kRedisPassword}};
  std::vector<std::pair<std::string, std::string>> outputs_;
};

TEST_F(Secrets, NoProcessEverWritesASecretThroughStartErrorsAnOutageAndShutdown) {
  // Start errors, each of which used to print the password (the review's findings).
  const RunResult bad_escape = run_to_end(
      "db-bad-escape", {"db", "migrate", "--postgres",
                        "postgresql://tastesync:" + kBadEscapePassword +
                            "@127.0.0.1:" + std::to_string(postgres_.port()) + "/tastesync"});
  EXPECT_TRUE(bad_escape.status.exited_with(2)) << bad_escape.status.describe();
  EXPECT_NE(bad_escape.stderr_text.find("postgres.dsn: libpq cannot parse"), std::string::npos)
      << bad_escape.stderr_text;

  write_file(dir() / "shape.yaml", "postgres: " + yaml_quoted(keyword_dsn()) + "\n");
  const RunResult shape =
      run_to_end("run-yaml-shape", {"run", "--config", (dir() / "shape.yaml").string(), "--brokers",
                                    brokers(), "--metrics-port", "0"});
  EXPECT_TRUE(shape.status.exited_with(2)) << shape.status.describe();
  EXPECT_NE(shape.stderr_text.find("postgres is a section"), std::string::npos)
      << shape.stderr_text;

  const RunResult both = run_to_end(
      "sink-key-and-file", {"sink", "redis", "--brokers", brokers(), "--redis", redis_address()},
      {{"TASTESYNC_REDIS__PASSWORD", kRedisPassword},
       {"TASTESYNC_REDIS__PASSWORD_FILE", (dir() / "redis-password").string()}});
  EXPECT_TRUE(both.status.exited_with(2)) << both.status.describe();
  EXPECT_NE(both.stderr_text.find("redis.password and redis.password_file are both set"),
            std::string::npos)
      << both.stderr_text;

  // The schema and registry, through the db commands with the password in the DSN.
  const RunResult migrated =
      run_to_end("db-migrate", {"db", "migrate", "--postgres", keyword_dsn()});
  ASSERT_TRUE(migrated.status.exited_with(0)) << migrated.stderr_text;
  const RunResult imported = run_to_end(
      "registry-import", {"registry", "import", (fixtures_dir() / "registry.json").string()},
      {{"TASTESYNC_POSTGRES__DSN_FILE", (dir() / "uri-dsn").string()}});
  ASSERT_TRUE(imported.status.exited_with(0)) << imported.stderr_text;

  // run: registry and PostgreSQL sink from the keyword DSN, the Redis sink with AUTH, and
  // sasl.password from a file (plaintext: the dev broker has no SASL, librdkafka keeps the
  // property unused).
  write_file(dir() / "run.yaml", "postgres:\n  dsn: " + yaml_quoted(keyword_dsn()) +
                                     "\n"
                                     "redis:\n  address: " +
                                     redis_address() +
                                     "\n"
                                     "kafka:\n"
                                     "  properties: {security.protocol: plaintext}\n"
                                     "  secret_files: {sasl.password: " +
                                     (dir() / "kafka-password").string() + "}\n");
  PipelineOptions options = pipeline_options("run", "run");
  options.extra_arguments = {"--config", (dir() / "run.yaml").string(), "--registry", "postgres"};
  options.environment = {{"TASTESYNC_REDIS__PASSWORD", kRedisPassword}};
  auto pipeline = start_pipeline(options);

  // Standalone sinks in groups of their own: the URI form of the DSN from a file, sasl.password
  // from the environment; the Redis password from a file, logging JSON.
  const std::vector<std::string> standalone = {"--brokers", brokers(),    "--metrics-port",
                                               "0",         "--group-id", "standalone"};
  std::vector<std::string> postgres_sink = {tastesync_binary(), "sink", "postgres"};
  postgres_sink.insert(postgres_sink.end(), standalone.begin(), standalone.end());
  Subprocess sink_postgres(postgres_sink, dir(), "sink-postgres",
                           {{"TASTESYNC_POSTGRES__DSN_FILE", (dir() / "uri-dsn").string()},
                            {"TASTESYNC_KAFKA__PROPERTIES__SECURITY__PROTOCOL", "plaintext"},
                            {"TASTESYNC_KAFKA__PROPERTIES__SASL__PASSWORD", kKafkaPassword}});
  std::vector<std::string> redis_sink = {tastesync_binary(), "sink", "redis", "--redis",
                                         redis_address()};
  redis_sink.insert(redis_sink.end(), standalone.begin(), standalone.end());
  Subprocess sink_redis(
      redis_sink, dir(), "sink-redis",
      {{"TASTESYNC_REDIS__PASSWORD_FILE", (dir() / "redis-password").string()},
       {"TASTESYNC_KAFKA__SECRET_FILES__SASL__PASSWORD", (dir() / "kafka-password").string()},
       {"TASTESYNC_LOG__JSON", "true"}});

  GenOptions traffic;
  traffic.count = 6000;
  traffic.rate_per_s = 200;
  traffic.bad_ratio = 0.0;
  traffic.customers = 200;
  traffic.start_time = canonical_time(wall_clock_ms() - 10 * 60 * 1000);
  auto gen = start_gen("gen", traffic);
  ASSERT_TRUE(wait_until([&] { return stored_rows() > 0; }, kWaitTimeout))
      << pipeline->process().stderr_text();
  RedisConnection redis(redis_.options());
  ASSERT_TRUE(wait_until([&] { return integer(redis, {"DBSIZE"}) > 0; }, kWaitTimeout));

  // A database error while running: every holder of the DSN meets it and logs it.
  postgres_.stop(/*immediate=*/true);
  const RunResult migrate_down = run_to_end("db-migrate-down", {"db", "migrate"},
                                            {{"TASTESYNC_POSTGRES__DSN", keyword_dsn()}});
  EXPECT_TRUE(migrate_down.status.exited_with(2)) << migrate_down.status.describe();
  EXPECT_TRUE(wait_until(
      [&] {
        return logged(pipeline->process(), "sink postgres: write of") &&
               logged(pipeline->process(), "registry from PostgreSQL: ") &&
               logged(sink_postgres, "sink postgres: write of");
      },
      kWaitTimeout))
      << pipeline->process().stderr_text();
  postgres_.start();
  EXPECT_TRUE(wait_until(
      [&] {
        return logged(pipeline->process(), "sink postgres: writing again") &&
               logged(sink_postgres, "sink postgres: writing again");
      },
      kWaitTimeout));

  ASSERT_TRUE(gen->wait_for_exit(kCatchUpTimeout).has_value());
  EXPECT_TRUE(sink_postgres.terminate(kStopTimeout).exited_with(0));
  EXPECT_TRUE(sink_redis.terminate(kStopTimeout).exited_with(0));
  EXPECT_EQ(pipeline->stop().code, 0);
  keep_output(pipeline->process());
  keep_output(sink_postgres);
  keep_output(sink_redis);
  keep_output(*gen);

  // The effective-config line shows the DSN as libpq reads it, password hidden.
  EXPECT_NE(pipeline->process().stderr_text().find("password=***"), std::string::npos);
  expect_no_secret_in_any_output();
}

TEST_F(Secrets, RedisRefusingTheCredentialsAtStartFailsTheStartNamingTheKey) {
  const std::vector<std::string> sink = {"sink",    "redis",         "--brokers",      brokers(),
                                         "--redis", redis_address(), "--metrics-port", "0"};
  const RunResult wrong =
      run_to_end("sink-wrong-password", sink, {{"TASTESYNC_REDIS__PASSWORD", "r3dis-pw-wrong ?%"}});
  EXPECT_TRUE(wrong.status.exited_with(2)) << wrong.status.describe();
  EXPECT_NE(wrong.stderr_text.find("redis.password: Redis refused the password"), std::string::npos)
      << wrong.stderr_text;

  const RunResult missing = run_to_end("sink-no-password", sink);
  EXPECT_TRUE(missing.status.exited_with(2)) << missing.status.describe();
  EXPECT_NE(missing.stderr_text.find("redis.password: Redis requires authentication"),
            std::string::npos)
      << missing.stderr_text;

  RedisTestServer acl_redis(RedisTestServerAuth{
      .requirepass = "admin", .acl_user = "sink", .acl_password = kRedisPassword});
  PipelineOptions options = pipeline_options("run-unknown-user", "run-unknown-user");
  options.extra_arguments = {"--redis", "127.0.0.1:" + std::to_string(acl_redis.port())};
  options.environment = {{"TASTESYNC_REDIS__USER", "nobody"},
                         {"TASTESYNC_REDIS__PASSWORD", kRedisPassword}};
  auto pipeline = start_pipeline(options);
  const auto status = pipeline->process().wait_for_exit(kWaitTimeout);
  ASSERT_TRUE(status) << "run went on with credentials Redis refuses";
  EXPECT_TRUE(status->exited_with(2)) << status->describe();
  EXPECT_NE(pipeline->process().stderr_text().find(
                "redis.user / redis.password: Redis refused user 'nobody'"),
            std::string::npos)
      << pipeline->process().stderr_text();
  keep_output(pipeline->process());

  // The ACL user with its password is accepted.
  std::vector<std::string> acl_sink = {tastesync_binary(),
                                       "sink",
                                       "redis",
                                       "--brokers",
                                       brokers(),
                                       "--redis",
                                       "127.0.0.1:" + std::to_string(acl_redis.port()),
                                       "--metrics-port",
                                       "0"};
  Subprocess accepted(acl_sink, dir(), "sink-acl-user",
                      {{"TASTESYNC_REDIS__USER", "sink"},
                       {"TASTESYNC_REDIS__PASSWORD_FILE", (dir() / "redis-password").string()}});
  EXPECT_TRUE(wait_until([&] { return logged(accepted, "sink redis: consuming"); }, kWaitTimeout))
      << accepted.stderr_text();
  EXPECT_TRUE(accepted.terminate(kStopTimeout).exited_with(0)) << accepted.stderr_text();
  keep_output(accepted);
  expect_no_secret_in_any_output();
}

// Decision (docs/design.md "Secrets"): a password rotated in Redis but not in tastesync is not an
// outage to wait out. The reconnect that meets it stops the sink, and the process exits 2.
TEST_F(Secrets, RedisRefusingTheCredentialsAfterAReconnectStopsRunAndTheSink) {
  PipelineOptions options = pipeline_options("run", "run");
  options.extra_arguments = {"--redis", redis_address()};
  options.environment = {{"TASTESYNC_REDIS__PASSWORD", kRedisPassword}};
  auto pipeline = start_pipeline(options);
  Subprocess sink({tastesync_binary(), "sink", "redis", "--brokers", brokers(), "--redis",
                   redis_address(), "--metrics-port", "0", "--group-id", "standalone"},
                  dir(), "sink-redis",
                  {{"TASTESYNC_REDIS__PASSWORD_FILE", (dir() / "redis-password").string()}});
  GenOptions traffic;
  traffic.count = 20000;
  traffic.rate_per_s = 200;
  traffic.bad_ratio = 0.0;
  traffic.customers = 200;
  traffic.start_time = canonical_time(wall_clock_ms() - 10 * 60 * 1000);
  auto gen = start_gen("gen", traffic);
  RedisConnection admin(redis_.options());
  ASSERT_TRUE(wait_until([&] { return integer(admin, {"DBSIZE"}) > 0; }, kWaitTimeout));

  ASSERT_TRUE(admin.command({"CONFIG", "SET", "requirepass", "rotated"}));
  ASSERT_TRUE(admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}));

  const auto run_status = pipeline->process().wait_for_exit(kWaitTimeout);
  ASSERT_TRUE(run_status) << "run kept retrying credentials Redis refuses";
  EXPECT_TRUE(run_status->exited_with(2)) << run_status->describe();
  EXPECT_NE(pipeline->process().stderr_text().find("redis.password: Redis refused the password"),
            std::string::npos)
      << pipeline->process().stderr_text();
  const auto sink_status = sink.wait_for_exit(kWaitTimeout);
  ASSERT_TRUE(sink_status) << "the sink kept retrying credentials Redis refuses";
  EXPECT_TRUE(sink_status->exited_with(2)) << sink_status->describe();
  EXPECT_NE(sink.stderr_text().find("redis.password: Redis refused the password"),
            std::string::npos)
      << sink.stderr_text();
  keep_output(pipeline->process());
  keep_output(sink);
  expect_no_secret_in_any_output();
}

}  // namespace
}  // namespace tastesync::testing
