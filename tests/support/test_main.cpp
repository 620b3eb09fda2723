// The CppUTest runner shared by every test binary.
#include <CppUTest/CommandLineTestRunner.h>
#include <CppUTest/MemoryLeakWarningPlugin.h>

int main(int argc, char** argv) {
  // Many tests run an event loop, a server or a client on a thread of their own, which allocates
  // while the test's thread does. The default leak detector keeps its table unlocked, and two
  // threads at once corrupt it into false leaks and "deallocating non-allocated memory".
  MemoryLeakWarningPlugin::turnOnThreadSafeNewDeleteOverloads();
  return CommandLineTestRunner::RunAllTests(argc, argv);
}
