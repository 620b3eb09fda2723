#include "agent/run_serial_inputs.hpp"

#include <CppUTest/TestHarness.h>

#include <string>
#include <vector>

using namespace fieldsync;

namespace {

drivers::SerialSpec Spec(const std::string& name, const std::string& port) {
  drivers::SerialSpec s;
  s.name = name;
  s.port = port;
  return s;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += n + " ";
  return out;
}

}  // namespace

TEST_GROUP(SerialReloadPlan){};

TEST(SerialReloadPlan, AddsRemovesRestartsChangedAndKeepsUnchangedInputs) {
  std::vector<drivers::SerialSpec> running = {Spec("a", "/dev/ttyACM0"), Spec("b", "/dev/ttyACM1"),
                                              Spec("c", "/dev/ttyUSB0")};
  std::vector<drivers::SerialSpec> wanted = {Spec("a", "/dev/ttyACM0"), Spec("c", "/dev/ttyUSB1"),
                                             Spec("d", "/dev/ttyS0")};
  wanted[0].frame.max_line = 4096;  // same as the default: unchanged
  auto plan = agent::PlanSerialChanges(running, wanted, false);
  STRCMP_EQUAL("a ", Join(plan.keep).c_str());
  STRCMP_EQUAL("b ", Join(plan.stop).c_str());
  STRCMP_EQUAL("c ", Join(plan.restart).c_str());
  STRCMP_EQUAL("d ", Join(plan.start).c_str());
}

TEST(SerialReloadPlan, BaudFormatAndAckChangesRestartTheInput) {
  auto base = Spec("a", "/dev/ttyACM0");
  auto baud = base;
  baud.baud = 9600;
  auto format = base;
  format.frame.format = drivers::FrameFormat::kKv;
  auto ack = base;
  ack.ack = true;
  for (const auto& changed : {baud, format, ack}) {
    auto plan = agent::PlanSerialChanges({base}, {changed}, false);
    STRCMP_EQUAL("a ", Join(plan.restart).c_str());
  }
}

TEST(SerialReloadPlan, ChangedCalibrationRestartsEveryInput) {
  auto plan = agent::PlanSerialChanges({Spec("a", "/dev/x")}, {Spec("a", "/dev/x")}, true);
  STRCMP_EQUAL("a ", Join(plan.restart).c_str());
  LONGS_EQUAL(0, plan.keep.size());
}
