// CPUID probe for kernels without /sys/hypervisor/guest_type. Isolated behind an interface:
// tests use a fake, and nothing probes CPUID under --root.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace xa {

struct XenCpuid {
    std::uint32_t base_leaf = 0;    // 0x40000000 + n*0x100 where "XenVMMXenVMM" was found
    bool forced_emulation = false;  // only seen through the PV forced-emulation prefix
    unsigned major = 0, minor = 0;  // from leaf base+1
};

class CpuidProbe {
  public:
    virtual ~CpuidProbe() = default;
    // Plain CPUID leaf scan: finds Xen in HVM and PVH containers.
    virtual std::optional<XenCpuid> scan_plain() const = 0;
    // Scan through Xen's forced-emulation prefix (ud2a; "xen"; cpuid). Only meaningful (and
    // only safe) in a PV domain; the real probe also guards against SIGILL.
    virtual std::optional<XenCpuid> scan_forced_emulation() const = 0;
};

#if defined(__x86_64__) || defined(__i386__)
inline constexpr bool kHasCpuid = true;
#else
inline constexpr bool kHasCpuid = false;  // Arm: detection has no CPUID to ask
#endif

// The real one (x86 only; elsewhere it finds nothing).
class HardwareCpuidProbe final : public CpuidProbe {
  public:
    std::optional<XenCpuid> scan_plain() const override;
    std::optional<XenCpuid> scan_forced_emulation() const override;
};

}  // namespace xa
