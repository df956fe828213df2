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
// fields when stderr is the journal stream), runs WORK, and _exit()s with its return value
// (kExitFailed when it throws). The parent waits at most DEADLINE, then SIGKILLs the child.
// Returns the child's exit status, or kExitFailed when it could not be started, was killed
// by a signal, or overran the deadline. WHAT names the work in log messages.
int run_forked(const std::string& what, const std::function<int()>& work,
               std::chrono::milliseconds deadline);

}  // namespace xa
