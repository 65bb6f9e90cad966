// stationctl's commands. Each returns the process exit code.
#pragma once

#include "station/base/args.h"

namespace station::cli {

int DevSetupCommand(int argc, char** argv);
int CaCommand(int argc, char** argv);
int AuditCommand(int argc, char** argv);
int ProfileCommand(int argc, char** argv);
int RegistryCommand(int argc, char** argv);  // lot, codes, device
int AwsCommand(int argc, char** argv);       // verification-cert
int StoreCommand(int argc, char** argv);     // migrate
int ReasonsCommand(int argc, char** argv);   // what each reason means

// Officer commands over the Officer service (officer_cmd.cc); a config with
// a `target` is an officer.conf, else a station.conf.
bool IsOfficerConfig(const std::string& path);
int OfficerCaCommand(const std::string& sub, const base::Args& args);  // list, stage, activate, retire
int OfficerApproveReissue(const base::Args& args);
int OfficerProfileCommand(const std::string& sub, const base::Args& args);   // list, set-lines

// Prints "stationctl: CODE REASON: message" and returns 2 for usage errors, 1 otherwise.
int Fail(const Error& error);

// --format text (the default) or json: whether a listing is printed as one
// JSON document for machines.
Result<bool> JsonWanted(const base::Args& args);

}  // namespace station::cli
