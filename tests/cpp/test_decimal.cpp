// The price-file reader's number grammar (detail/decimal.hpp): what it takes,
// what it leaves to the reader, and correct rounding on the hard cases.
#include <trackerr/detail/decimal.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "check.hpp"

namespace {

bool reads(const char* text, double& out) {
    return trackerr::detail::parse_plain_decimal(text, std::strlen(text), out);
}

void test_accepted_forms() {
    struct Case {
        const char* text;
        double value;
    };
    const Case cases[] = {
        {"1", 1.0},          {"+1.5", 1.5},       {"-0", -0.0},     {"0.", 0.0},
        {".5", 0.5},         {"1E5", 1e5},        {"1e+05", 1e5},   {"-2.5e-3", -2.5e-3},
        {"0001.10", 1.1},    {"4.9e-324", 4.9e-324},
        {"1.7976931348623157e308", 1.7976931348623157e308},
        // halfway between 2^53 and 2^53 + 2: ties to even, down
        {"9007199254740993", 9007199254740992.0},
        // just above the halfway point: up
        {"9007199254740993.0000000000001", 9007199254740994.0},
        {"0.1000000000000000055511151231257827", 0.1},
    };
    for (const auto& c : cases) {
        double v = -1.0;
        CHECK(reads(c.text, v));
        CHECK_EQ(v, c.value);
        CHECK_EQ(std::signbit(v), std::signbit(c.value));
    }
}

void test_left_to_the_reader() {
    const char* refused[] = {"",    "+",     "-",    ".",     "e5",     "1e",   "1e+",  "1.2.3",
                             " 1",  "1 ",    "1_000", "0x1p3", "inf",   "nan",  "NaN",  "1,5",
                             "$1",  "1$",    "+-1",  "1e999", "-1e999", "1e-999", "1d5", "١٢"};
    for (const char* text : refused) {
        double v = 42.0;
        CHECK(!reads(text, v));
        CHECK_EQ(v, 42.0);  // untouched
    }
}

void test_length_bounds_the_text() {
    // the cell is [s, s + n): what follows is not read
    double v = 0.0;
    CHECK(trackerr::detail::parse_plain_decimal("12.5abc", 4, v));
    CHECK_EQ(v, 12.5);
    CHECK(!trackerr::detail::parse_plain_decimal("12.5abc", 5, v));
}

}  // namespace

int main() {
    test_accepted_forms();
    test_left_to_the_reader();
    test_length_bounds_the_text();
    return check::report("test_decimal");
}
