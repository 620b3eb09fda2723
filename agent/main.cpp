// fieldsync: edge agent for IoT gateways. Everything happens in agent::Main.
#include "agent/cli.hpp"

int main(int argc, char** argv) { return fieldsync::agent::Main(argc, argv); }
