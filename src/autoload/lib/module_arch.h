// Xen modules that only some architectures build. A module missing from a tree because its
// architecture cannot build it is what that kernel is, not a fault: an arm64 dom0 with the
// shipped policy's "optional dom0 xen-acpi-processor" would otherwise warn at every boot
// (XEN_ACPI_PROCESSOR depends on X86), and a warning that always appears teaches admins to
// ignore warnings. The plan says so at info level for an optional module; a required one
// stays a failure (the admin asked for it by name).
#pragma once

#include <optional>
#include <string_view>

namespace xa {

// The architecture family of the kernels this binary serves, the one it was built for:
// "x86" (x86-64, i386), "arm64", or "other". The daemon, the udev helper and the initramfs
// hooks run on the machine whose kernel they manage.
std::string_view build_arch_family();

// The only family that builds MODULE (kernel spelling, "xen_acpi_processor"), as its
// Kconfig symbol's "depends on" says; nullopt for a module every Xen architecture builds or
// one this table does not know.
std::optional<std::string_view> module_only_on(std::string_view module);

}  // namespace xa
