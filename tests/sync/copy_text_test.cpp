#include "sync/copy_text.hpp"

#include <CppUTest/TestHarness.h>

#include <cmath>
#include <cstdlib>
#include <limits>

using fieldsync::sync::CopyTextWriter;

TEST_GROUP(CopyText){};

TEST(CopyText, FieldsAreTabSeparatedAndRowsEndWithNewline) {
  CopyTextWriter w;
  w.Text("a");
  w.Int(-42);
  w.Null();
  w.Bool(true);
  w.EndRow();
  w.Text("b");
  w.EndRow();
  STRCMP_EQUAL("a\t-42\t\\N\tt\nb\n", w.buffer().c_str());
}

TEST(CopyText, SpecialCharactersAreEscaped) {
  CopyTextWriter w;
  w.Text("tab\there\nnew\\line\rcr");
  STRCMP_EQUAL("tab\\there\\nnew\\\\line\\rcr", w.buffer().c_str());
}

TEST(CopyText, DoublesRoundTripExactly) {
  for (double v : {0.1, 1.0 / 3.0, -2.5e-300, 1.7976931348623157e308, 123456789.123456789}) {
    CopyTextWriter w;
    w.Double(v);
    const double back = std::strtod(w.buffer().c_str(), nullptr);
    CHECK(back == v);
  }
  CopyTextWriter w;
  w.Double(std::numeric_limits<double>::infinity());
  w.Double(std::nan(""));
  STRCMP_EQUAL("Infinity\tNaN", w.buffer().c_str());
}

TEST(CopyText, TimestampsCarryMicroseconds) {
  CopyTextWriter w;
  w.Timestamp(1'700'000'000'123'456);
  STRCMP_EQUAL("2023-11-14T22:13:20.123456Z", w.buffer().c_str());
}
