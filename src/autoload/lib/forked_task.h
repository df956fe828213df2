// Runs a piece of work in a fork()ed child and waits for it with a deadline. Why: the
// daemon's long-lived process must stay small (< 2 MiB RSS idle), and libkmod pulls in
// libcrypto (NODELETE: never unmapped), liblzma, libzstd and zlib, libsystemd pulls in
// libgcrypt, libcap and liblz4. Doing every libkmod/journal call in a short-lived child keeps
// those libraries out of the parent for good. Only for single-threaded callers (fork copies
// just the calling thread).
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace xa {

// Forks; the child re-detects its log target (so it logs to the journal with structured
// fields when stderr is the journal stream), runs WORK and ends with _exit(): status 0 when
// WORK returned true, 1 when it returned false or threw. The parent waits at most DEADLINE,
// then SIGKILLs the child. Returns true when the child ended with status 0; false when it
// failed, could not be started, was killed by a signal or overran the deadline. WHAT names
// the work in log messages. Only the child ends this way: the caller's process goes on.
bool run_forked(const std::string& what, const std::function<bool()>& work,
                std::chrono::milliseconds deadline);

}  // namespace xa
