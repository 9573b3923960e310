// How much the text report prints: -q, default, -v.
#pragma once

namespace provium {

enum class Verbosity { quiet, normal, verbose };

}  // namespace provium
