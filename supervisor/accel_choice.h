// Which accelerator QEMU should use: `--accel auto|kvm|tcg`.
#pragma once

namespace provium {

enum class AccelChoice { automatic, kvm, tcg };
enum class Accel { kvm, tcg };

inline const char* to_string(Accel accel) { return accel == Accel::kvm ? "kvm" : "tcg"; }

}  // namespace provium
