// The one line splitter, for files and sysfs/procfs values: lines end at '\n', a last line
// without one still counts, an empty text has none. The lines are views into the text.
//   Lines lines(text);
//   while (const auto line = lines.next()) use(*line, lines.number());
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace xa {

class Lines {
  public:
    explicit Lines(std::string_view text) : rest_(text) {}

    // The next line without its '\n', or nullopt after the last.
    std::optional<std::string_view> next() {
        if (rest_.empty()) return std::nullopt;
        const std::size_t nl = rest_.find('\n');
        const std::string_view line = rest_.substr(0, nl);
        rest_ = nl == std::string_view::npos ? std::string_view() : rest_.substr(nl + 1);
        ++number_;
        return line;
    }
    // The number of the line next() returned last, from 1.
    std::size_t number() const { return number_; }

  private:
    std::string_view rest_;
    std::size_t number_ = 0;
};

}  // namespace xa
