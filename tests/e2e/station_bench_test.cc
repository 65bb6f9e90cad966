// station-bench, as README's benchmark command runs it, in its shortest form:
// it makes its stations, runs every measurement and prints one JSON object
// for each. No figure is asserted (bench/README.md keeps them).
#include <gtest/gtest.h>

#include "tests/support/dev_postgres.h"
#include "tests/support/dev_station.h"
#include "tests/support/subprocess.h"

namespace station {
namespace {

TEST(StationBenchTest, RunsEveryMeasurementBriefly) {
  auto run = testing::RunCommand({testing::ProgramPath("station-bench"), "--seconds", "1", "--naive", "2", "--ca-keys",
                                  "ec-p256", "--memory-factor", "1", "--netsim", "2000:4"},
                                 600);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* measure : {"raw", "e2e", "latency_50", "latency_100", "memory", "audit_sync", "naive", "scaling",
                              "netsim"})
    EXPECT_NE(run.output.find("{\"measure\":\"" + std::string(measure) + "\""), std::string::npos)
        << measure << " missing from:\n" << run.output;
  for (const char* field : {"\"e2e_over_raw\":", "\"of_capacity\":", "\"cpu_us_per_signature\":",
                            "\"server_cpu_us_per_certificate\":", "\"signature_share_of_server_cpu\":",
                            // written by the simulated HSM when the server stops (bench/netsim/timing.h)
                            "\"sign_call_us\":", "\"session_gap_us\":"})
    EXPECT_NE(run.output.find(field), std::string::npos) << field << " missing from:\n" << run.output;
}

TEST(StationBenchTest, ExplainsItself) {
  auto help = testing::RunCommand({testing::ProgramPath("station-bench"), "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.output;
  for (const char* flag : {"--seconds", "--ca-keys", "--netsim", "--store", "--store-password-file", "raw"})
    EXPECT_NE(help.output.find(flag), std::string::npos) << flag << " missing from:\n" << help.output;
}

TEST(StationBenchTest, MeasuresASharedStoreBesideSqlite) {
  testing::DevPostgres pg;
  ASSERT_TRUE(pg.ok()) << pg.error();
  auto run = testing::RunCommand({testing::ProgramPath("station-bench"), "--seconds", "1", "--naive", "0", "--ca-keys",
                                  "ec-p256", "--memory-factor", "1", "--no-scaling", "--netsim", "2000:4", "--store",
                                  pg.url(), "--store-password-file", pg.password_file()},
                                 600);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* field : {"{\"measure\":\"e2e_store\"", "\"store_over_sqlite\":", "{\"measure\":\"two_stations\"",
                            "\"total_certs_per_second\":"})
    EXPECT_NE(run.output.find(field), std::string::npos) << field << " missing from:\n" << run.output;
}

}  // namespace
}  // namespace station
