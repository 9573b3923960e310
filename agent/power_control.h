// Ending or restarting the guest, for powerOff and for busybox's
// poweroff/halt/reboot (which signal PID 1 rather than calling reboot(2)).
#pragma once

namespace provium::agent {

// sync, then power the machine off. If the kernel refuses, exits; as PID 1
// that panics, and with panic=-1 and QEMU's -no-reboot the VM still ends.
[[noreturn]] void power_off_guest();

// sync, then reboot (which ends QEMU when it runs with -no-reboot).
[[noreturn]] void reboot_guest();

}  // namespace provium::agent
