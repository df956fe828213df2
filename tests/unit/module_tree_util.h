// A module tree for a test root. The program refuses symlinks that lead out of a --root
// (sysroot.h), so a test root cannot just symlink lib/modules to the real tree: here
// lib/modules/KVER is a real directory inside the root, its modules.* files hard-linked
// (or copied) from the real tree; the rest (kernel/, the .ko files, which libkmod only
// opens for a real insertion) is symlinked.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace xa::test {

inline void link_module_tree(const std::string& tree_kver_dir, const std::string& dest) {
    namespace fs = std::filesystem;
    fs::create_directories(dest);
    for (const auto& e : fs::directory_iterator(tree_kver_dir)) {
        const fs::path to = fs::path(dest) / e.path().filename();
        if (e.is_regular_file() && e.path().filename().string().starts_with("modules.")) {
            std::error_code ec;
            fs::create_hard_link(e.path(), to, ec);
            if (ec) fs::copy_file(e.path(), to);
        } else {
            fs::create_symlink(e.path(), to);
        }
    }
}

}  // namespace xa::test
