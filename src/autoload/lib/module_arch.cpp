#include "module_arch.h"

#include <array>
#include <utility>

namespace xa {

namespace {

// Module, family: from drivers/xen/Kconfig and arch/*/xen (Linux 6.1 to 6.12). Only modules
// a Xen policy may name; a frontend or a backend that every architecture builds is absent.
// (XEN_MCE_LOG and the other x86-only Xen options are bool: built in, never a module.)
constexpr std::array<std::pair<std::string_view, std::string_view>, 1> kOnlyOn{{
    {"xen_acpi_processor", "x86"},  // XEN_ACPI_PROCESSOR: depends on ... X86 && ACPI_PROCESSOR
}};

}  // namespace

std::string_view build_arch_family() {
#if defined(__x86_64__) || defined(__i386__)
    return "x86";
#elif defined(__aarch64__)
    return "arm64";
#else
    return "other";
#endif
}

std::optional<std::string_view> module_only_on(std::string_view module) {
    for (const auto& [name, arch] : kOnlyOn)
        if (name == module) return arch;
    return std::nullopt;
}

}  // namespace xa
