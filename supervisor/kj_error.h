// Errors that travel through kj promises, and over RPC to the runner as the
// failed call's exception. The text is all the runner (and the user reading
// its report) gets, so it must say what was wrong and what is allowed.
// (KJ_EXCEPTION would decorate non-literal arguments as "expr = value".)
#pragma once

#include <string>

#include <kj/exception.h>

namespace provium {

[[noreturn]] inline void throw_kj_error(const std::string& message) {
  throw kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::heapString(message.c_str()));
}

}  // namespace provium
