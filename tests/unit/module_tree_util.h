// A module tree for a test root. The program refuses symlinks that lead out of a --root
// (sysroot.h), so a test root cannot just symlink lib/modules to the real tree: here
// lib/modules/KVER is a real directory inside the root, its modules.* files hard-linked
// (or copied) from the real tree, and so is kernel/ with every .ko file (a module whose
// file is not inside the root is missing: module_index.h); anything else is symlinked.
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
        } else if (e.is_directory() && e.path().filename() == "kernel") {
            std::error_code ec;
            fs::copy(e.path(), to,
                     fs::copy_options::recursive | fs::copy_options::create_hard_links, ec);
            if (ec) {  // another file system: a copy (some 400 MB)
                fs::remove_all(to);
                fs::copy(e.path(), to, fs::copy_options::recursive);
            }
        } else {
            fs::create_symlink(e.path(), to);
        }
    }
}

}  // namespace xa::test
