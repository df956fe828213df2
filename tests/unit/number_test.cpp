#include "number.h"

#include <gtest/gtest.h>

namespace xa {
namespace {

TEST(ParseUnsigned, WholeTextWithinBounds) {
    EXPECT_EQ(parse_unsigned("0"), 0u);
    EXPECT_EQ(parse_unsigned("4294967295"), 4294967295u);
    EXPECT_EQ(parse_unsigned("8", 1, 64), 8u);
    EXPECT_EQ(parse_unsigned("64", 1, 64), 64u);
}

TEST(ParseUnsignedRejects, AnythingElse) {
    for (const char* bad : {"", " 1", "1 ", "+1", "-1", "0x10", "1.5", "12a", "4294967296"})
        EXPECT_EQ(parse_unsigned(bad), std::nullopt) << "'" << bad << "'";
    EXPECT_EQ(parse_unsigned("0", 1, 64), std::nullopt);
    EXPECT_EQ(parse_unsigned("65", 1, 64), std::nullopt);
}

}  // namespace
}  // namespace xa
