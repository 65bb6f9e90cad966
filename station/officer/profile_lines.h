// Who may use each profile, as officers last changed it (two-person control,
// officer/desk.h). A change is written with its officer record; at start the
// stored sets replace the profile files' `lines`, so a change outlives a
// restart and an edited file cannot quietly undo it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "station/base/error.h"
#include "station/issuance/certificate_profile.h"
#include "station/policy/profile.h"
#include "station/store/store.h"

namespace station::officer {

// Sets `profile`'s lines, noting the officer record `seq`.
Status WriteProfileLines(store::Changes& changes, const std::string& profile, const policy::LineSet& lines, uint64_t seq);

// The stored line sets by profile name.
Result<std::map<std::string, policy::LineSet>> ReadProfileLines(store::Store& store);

// Puts the stored line sets back into the profiles at start. Sets of a
// profile the station no longer has are ignored.
Status RestoreProfileLines(store::Store& store, const std::vector<issuance::CertificateProfile*>& profiles);

}  // namespace station::officer
