// Every reason the station and its tools return, in one table: the name a
// program matches, the gRPC code it comes with, and what a person does about
// it. `stationctl reasons` prints it, the README's error table is generated
// from it, and tests/docs/reasons_test.py checks that every reason in the
// sources is here with the same code, and that the README lists all of them.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "station/base/error.h"

namespace station::base {

// One meaning, shared by one or more reasons (as one row of the README's table).
struct ReasonRow {
  std::string_view names;    // the reasons, separated by ", " in the order the meaning speaks of them
  Code code;                 // the gRPC code each of them carries
  std::string_view where;    // "" for an answer to a line; else where it is returned ("server start", ...)
  std::string_view meaning;  // what it means, and what to do (Markdown, one line)
};

std::span<const ReasonRow> ReasonTable();

// The reasons of one row, in its order.
std::vector<std::string_view> ReasonNames(const ReasonRow& row);

// The row that explains `reason`; nullptr for a reason the table does not know.
const ReasonRow* FindReason(std::string_view reason);

}  // namespace station::base
