#include "cpuid.h"

#include <csetjmp>
#include <csignal>
#include <cstring>

namespace xa {
namespace {

#if defined(__x86_64__) || defined(__i386__)
constexpr bool kX86 = true;

struct Regs {
    std::uint32_t a, b, c, d;
};

Regs cpuid_plain(std::uint32_t leaf) {
    Regs r{};
    asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(0));
    return r;
}

// Xen's forced emulation prefix: a PV guest's CPUID is not trapped by hardware, so Xen
// offers "ud2a; .ascii 'xen'; cpuid" which it emulates. Anywhere else it raises #UD.
Regs cpuid_forced(std::uint32_t leaf) {
    Regs r{};
    asm volatile(".byte 0x0f,0x0b,0x78,0x65,0x6e; cpuid"
                 : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d)
                 : "a"(leaf), "c"(0));
    return r;
}
#else
constexpr bool kX86 = false;
struct Regs {
    std::uint32_t a, b, c, d;
};
Regs cpuid_plain(std::uint32_t) { return {}; }
Regs cpuid_forced(std::uint32_t) { return {}; }
#endif

template <typename Fn>
std::optional<XenCpuid> scan(Fn cpuid, bool forced) {
    for (std::uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
        const Regs r = cpuid(base);
        char sig[13];
        std::memcpy(sig + 0, &r.b, 4);
        std::memcpy(sig + 4, &r.c, 4);
        std::memcpy(sig + 8, &r.d, 4);
        sig[12] = '\0';
        // leaf base+0 eax: the highest leaf of this range; Xen has at least base+2.
        if (std::strcmp(sig, "XenVMMXenVMM") == 0 && r.a >= base + 2) {
            XenCpuid x;
            x.base_leaf = base;
            x.forced_emulation = forced;
            const Regs v = cpuid(base + 1);
            x.major = v.a >> 16;
            x.minor = v.a & 0xffff;
            return x;
        }
    }
    return std::nullopt;
}

sigjmp_buf g_sigill_jump;  // only used between sigsetjmp and the restore below
void on_sigill(int) { siglongjmp(g_sigill_jump, 1); }

// Nothing but the jump buffer lives across sigsetjmp here (no locals to clobber); the scan
// itself runs in its own frame.
[[gnu::noinline]] std::optional<XenCpuid> forced_scan() { return scan(cpuid_forced, true); }
[[gnu::noinline]] std::optional<XenCpuid> guarded_forced_scan() {
    if (sigsetjmp(g_sigill_jump, 1) != 0) return std::nullopt;  // #UD: not a PV domain
    return forced_scan();
}

}  // namespace

std::optional<XenCpuid> HardwareCpuidProbe::scan_plain() const {
    if (!kX86) return std::nullopt;
    return scan(cpuid_plain, false);
}

std::optional<XenCpuid> HardwareCpuidProbe::scan_forced_emulation() const {
    if (!kX86) return std::nullopt;
    // Callers only try this when other evidence says "PV domain"; still, never let a wrong
    // guess kill the process: catch the #UD (SIGILL) and report "not found".
    struct sigaction sa {};
    struct sigaction old {};
    sa.sa_handler = on_sigill;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGILL, &sa, &old) != 0) return std::nullopt;
    const std::optional<XenCpuid> found = guarded_forced_scan();
    sigaction(SIGILL, &old, nullptr);
    return found;
}

}  // namespace xa
