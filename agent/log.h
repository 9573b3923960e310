// Error reporting for the agent. In the guest stderr is the console, which is
// the only place a human can see why the agent is unhappy; the agent stays
// silent unless something is wrong.
#pragma once

#include <string_view>

namespace provium::agent {

// Writes "provium-agent: <message>\n" to stderr in one write().
void log_error(std::string_view message);

// `what` followed by ": " and strerror(error_number).
void log_errno(std::string_view what, int error_number);

}  // namespace provium::agent
