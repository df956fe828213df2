#include "text_escape.h"

#include <gtest/gtest.h>

namespace xa {
namespace {

TEST(TextEscape, ControlCharactersCannotStartALogLine) {
    EXPECT_EQ(escape_text("/x\n<0>FORGED"), "/x\\x0a<0>FORGED");
    EXPECT_EQ(escape_text("a\tb\rc\x7f"), "a\\x09b\\x0dc\\x7f");
    EXPECT_EQ(escape_text("caf\xe9"), "caf\\xe9");
    EXPECT_EQ(escape_text("back\\slash"), "back\\\\slash");
    EXPECT_EQ(escape_text("xen-backend:vif"), "xen-backend:vif");
}

TEST(TextEscape, Bounded) {
    const std::string long_value(1000, 'a');
    EXPECT_EQ(escape_text(long_value), std::string(kEchoMax, 'a') + "...");
    EXPECT_EQ(escape_text(long_value, 3), "aaa...");
    EXPECT_EQ(quote_text("ab", 1), "'a...'");
    EXPECT_EQ(escape_text(std::string(kEchoMax, 'b')), std::string(kEchoMax, 'b'));
}

}  // namespace
}  // namespace xa
