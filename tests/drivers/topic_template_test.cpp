#include "drivers/topic_template.hpp"

#include <string>

#include <CppUTest/TestHarness.h>

using namespace fieldsync::drivers;

namespace {

TopicTemplate MustParse(const char* text) {
  auto t = TopicTemplate::Parse(text);
  if (!t) FAIL(t.error().message.c_str());
  return *t;
}

void CheckRefused(const char* text) {
  auto t = TopicTemplate::Parse(text);
  CHECK_FALSE(t.has_value());
  if (!t) CHECK(t.error().message.find(text) != std::string::npos);
}

}  // namespace

TEST_GROUP(TopicTemplate){};

TEST(TopicTemplate, DeviceAndMetricPlaceholders) {
  TopicTemplate t = MustParse("sensors/{device}/{metric}");
  STRCMP_EQUAL("sensors/+/+", t.filter().c_str());
  CHECK(t.captures_metric());
  auto c = t.Match("sensors/uno-1/temp");
  CHECK(c.has_value());
  STRCMP_EQUAL("uno-1", c->device->c_str());
  STRCMP_EQUAL("temp", c->metric->c_str());
}

TEST(TopicTemplate, DeviceOnly) {
  TopicTemplate t = MustParse("frames/{device}");
  STRCMP_EQUAL("frames/+", t.filter().c_str());
  CHECK_FALSE(t.captures_metric());
  auto c = t.Match("frames/uno");
  CHECK(c.has_value());
  STRCMP_EQUAL("uno", c->device->c_str());
  CHECK_FALSE(c->metric.has_value());
}

TEST(TopicTemplate, NonMatchingTopics) {
  TopicTemplate t = MustParse("sensors/{device}/{metric}");
  CHECK_FALSE(t.Match("sensors/uno").has_value());
  CHECK_FALSE(t.Match("sensors/uno/temp/extra").has_value());
  CHECK_FALSE(t.Match("other/uno/temp").has_value());
  CHECK_FALSE(t.Match("").has_value());
}

TEST(TopicTemplate, LiteralTemplateCapturesNothing) {
  TopicTemplate t = MustParse("plant/line1/frames");
  STRCMP_EQUAL("plant/line1/frames", t.filter().c_str());
  auto c = t.Match("plant/line1/frames");
  CHECK(c.has_value());
  CHECK_FALSE(c->device.has_value());
  CHECK_FALSE(t.Match("plant/line2/frames").has_value());
}

TEST(TopicTemplate, MqttWildcards) {
  TopicTemplate t = MustParse("site/+/{device}/#");
  STRCMP_EQUAL("site/+/+/#", t.filter().c_str());
  auto c = t.Match("site/north/uno/a/b");
  CHECK(c.has_value());
  STRCMP_EQUAL("uno", c->device->c_str());
  CHECK(t.Match("site/north/uno").has_value());  // '#' matches the parent level too
  CHECK_FALSE(t.Match("site/north").has_value());
}

TEST(TopicTemplate, DollarTopicsDoNotMatchLeadingWildcards) {
  TopicTemplate t = MustParse("{device}/data");
  CHECK_FALSE(t.Match("$SYS/data").has_value());
  CHECK(t.Match("uno/data").has_value());
}

TEST(TopicTemplate, MalformedTemplatesAreRefused) {
  CheckRefused("");
  CheckRefused("sensors/x{device}");
  CheckRefused("sensors/{device}x");
  CheckRefused("sensors/{dev}");
  CheckRefused("sensors/{device}/{device}");
  CheckRefused("sensors/{metric}/{metric}");
  CheckRefused("sensors/#/x");
  CheckRefused("sensors/a+b");
  CheckRefused("sensors/{device");
}
