#include "forked_task.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>

#include "log.h"
#include "sysroot.h"

namespace xa {
namespace {

using Clock = std::chrono::steady_clock;

// After SIGKILL: how long to wait for the child to go. A child stuck in an uninterruptible
// finit_module() may never go; then it is left behind rather than hang the daemon.
constexpr std::chrono::milliseconds kReapGrace{std::chrono::seconds(5)};

// The child's exit status for a failure (a value of its own, not a process exit code of
// xen-autoload's: only this file reads it).
constexpr int kChildFailed = 1;

// Waits until PID exits or DEADLINE passes; the exit status, or nullopt on timeout. Sleeps
// in poll() on the pidfd (readable once the child has exited). Kernels before 5.3 have no
// pidfd_open: then waitpid(WNOHANG) every 20 ms, still bounded by the deadline.
std::optional<int> wait_until(pid_t pid, int pidfd, Clock::time_point deadline) {
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return W_EXITCODE(kChildFailed, 0);  // not our child
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::nullopt;
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
                return std::nullopt;
        } else {
            ::usleep(20000);
        }
    }
}

}  // namespace

bool run_forked(const std::string& what, const std::function<bool()>& work,
                std::chrono::milliseconds deadline) {
    std::fflush(nullptr);  // nothing buffered may be written twice
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        log_error("daemon: cannot start a process for " + what + ": " + errno_text(err),
                  {{}, {}, err, {}});
        return false;
    }
    if (pid == 0) {
        // The parent blocks SIGTERM/SIGHUP for its signalfd; the child must die on the
        // SIGTERM that systemd sends to the whole unit on stop.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        log_init(LogTarget::auto_detect, log_level());
        bool ok = false;
        try {
            ok = work();
        } catch (const std::exception& e) {
            log_error("daemon: " + what + ": " + e.what());
        }
        std::fflush(nullptr);
        // The forked child ends here, without the parent's atexit handlers and destructors
        // (they belong to the parent's state).
        ::_exit(ok ? 0 : kChildFailed);
    }

    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    std::optional<int> status = wait_until(pid, pidfd, Clock::now() + deadline);
    if (!status) {
        log_error("daemon: " + what + " did not finish within " + std::to_string(deadline.count()) +
                  " ms; killing process " + std::to_string(pid));
        ::kill(pid, SIGKILL);
        if (!wait_until(pid, pidfd, Clock::now() + kReapGrace))
            log_error("daemon: process " + std::to_string(pid) +
                      " does not die (stuck in the kernel); leaving it behind");
        if (pidfd >= 0) ::close(pidfd);
        return false;
    }
    if (pidfd >= 0) ::close(pidfd);
    if (WIFEXITED(*status)) return WEXITSTATUS(*status) == 0;
    log_error("daemon: " + what + ": process killed by signal " +
              std::to_string(WTERMSIG(*status)));
    return false;
}

}  // namespace xa
