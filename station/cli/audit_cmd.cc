#include <cstdio>
#include <fstream>
#include <iostream>

#include "station/audit/store.h"
#include "station/cli/commands.h"
#include "station/config/config.h"

namespace station::cli {
namespace {

int Verify(const config::StationConfig& config) {
  audit::AuditReader reader(config.audit_db_path());
  auto report = audit::VerifyChain(reader);
  if (!report.ok()) return Fail(report.error());
  if (!report->intact) {
    std::printf("audit log BROKEN at record %llu: %s (%llu records before it are intact)\n",
                static_cast<unsigned long long>(report->first_bad_seq), report->problem.c_str(),
                static_cast<unsigned long long>(report->records));
    return 1;
  }
  std::printf("audit log intact: %llu records, hash chain verified (%s)\n",
              static_cast<unsigned long long>(report->records), config.audit_db_path().c_str());
  return 0;
}

int Export(const config::StationConfig& config, const common::Args& args) {
  std::string format = args.Get("format", "jsonl");
  if (format != "jsonl") return Fail(common::UsageError("--format: only jsonl is supported"));
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (auto path = args.Get("out")) {
    file.open(*path, std::ios::trunc);
    if (!file) return Fail(MakeError(Code::kFailedPrecondition, "FILE_UNWRITABLE", "cannot write " + *path));
    out = &file;
  }
  audit::AuditReader reader(config.audit_db_path());
  uint64_t n = 0;
  Status st = reader.ForEach([&](const audit::AuditRecord& r) {
    *out << audit::RecordJson(r) << '\n';
    ++n;
    return static_cast<bool>(*out);
  });
  if (!st.ok()) return Fail(st.error());
  out->flush();
  if (!*out) return Fail(MakeError(Code::kFailedPrecondition, "FILE_UNWRITABLE", "writing the export failed"));
  std::fprintf(stderr, "exported %llu records\n", static_cast<unsigned long long>(n));
  return 0;
}

}  // namespace

int AuditCommand(int argc, char** argv) {
  if (argc < 3) return Fail(common::UsageError("audit needs a subcommand: verify or export"));
  std::string sub = argv[2];
  auto args = common::Args::Parse(argc, argv, 3, {"config", "format", "out"});
  if (!args.ok()) return Fail(args.error());
  auto path = args->Require("config");
  if (!path.ok()) return Fail(path.error());
  auto config = config::LoadStationConfig(*path);
  if (!config.ok()) return Fail(config.error());
  if (sub == "verify") return Verify(*config);
  if (sub == "export") return Export(*config, *args);
  return Fail(common::UsageError("unknown audit subcommand '" + sub + "' (verify, export)"));
}

}  // namespace station::cli
