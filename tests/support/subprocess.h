// The tests run the station's programs with station/common/subprocess.h.
#pragma once

#include "station/common/subprocess.h"

namespace station::testing {

using common::Background;
using common::CommandResult;
using common::RunCommand;

}  // namespace station::testing
