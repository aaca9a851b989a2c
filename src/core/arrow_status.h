#pragma once
// Arrow reports failures as Status / Result<T>; datalab throws errors with context. These two
// turn one into the other: "<what>: <Arrow's message>", as the error type the caller names
// (Error by default, ServiceError when a service is behind the failure). `what` is a view:
// the checks sit in per-value loops, where building a std::string for each call would cost a
// malloc and a free per value.
#include <string_view>
#include <utility>

#include <arrow/result.h>
#include <arrow/status.h>
#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

template <typename ErrorType = Error>
void check_arrow(const arrow::Status& status, std::string_view what) {
  if (!status.ok()) throw ErrorType(fmt::format("{}: {}", what, status.message()));
}

template <typename ErrorType = Error, typename T>
T unwrap_arrow(arrow::Result<T> result, std::string_view what) {
  check_arrow<ErrorType>(result.status(), what);
  return std::move(result).ValueUnsafe();
}

}  // namespace datalab
