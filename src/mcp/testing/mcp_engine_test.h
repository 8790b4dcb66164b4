// The fixture of the tests of EngineMcpTools over a real TaskManager: fake clock, scripted
// runner (testing::McpTestScript), in-memory store, the agents explore and librarian.
#pragma once

#include <memory>
#include <string>

#include "agent/agent_catalog.h"
#include "engine/engine_test_fixture.h"
#include "engine/testing/test_scripts.h"
#include "mcp/mcp_tools.h"

namespace troupe::testing {

class McpEngineTest : public EngineTest {
 protected:
  void SetUp() override { Start(0); }

  // (Re)builds the engine with `concurrency` slots per model (0 = unlimited) and the tools over
  // it, after ForgetCalls().
  void Start(int concurrency) {
    ForgetCalls();
    tools_.reset();  // before the manager it watches
    runner_.set_chooser(McpTestScript);
    TaskManagerOptions options;
    options.limits.default_concurrency = concurrency;
    Build(options);
    catalog_ = AgentCatalog(
        {McpTestAgent("explore", "Finds code"), McpTestAgent("librarian", "Reads docs")}, {});
    tools_ = std::make_unique<EngineMcpTools>(&clock_, manager_.get(), &catalog_);
  }

  // Drops what a test keeps of calls and sessions on the old tools.
  virtual void ForgetCalls() {}

  AgentCatalog catalog_;
  std::unique_ptr<EngineMcpTools> tools_;
};

}  // namespace troupe::testing
