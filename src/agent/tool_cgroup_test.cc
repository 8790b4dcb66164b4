// The per-run control groups (tool_cgroup.h) against the real kernel: where none can be made
// they say why; as root, where the pids controller is writable, a run's processes join its
// group, what escaped the process group (setsid) dies with the run, and the groups go.
#include "agent/tool_cgroup.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/process_runner.h"
#include "agent/tools/tool_test_fixture.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using troupe::testing::TestDir;
using troupe::testing::WaitNotRunning;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ToolCgroupsTest, WithoutAHierarchyTheyAreUnavailableAndSayWhy) {
  TestDir dir;
  std::shared_ptr<ToolCgroups> groups = ToolCgroups::Create(dir.path().string(), 64);
  EXPECT_FALSE(groups->available());
  EXPECT_THAT(groups->unavailable_reason(), HasSubstr("no cgroup v2 and no cgroup v1 pids"));
  EXPECT_THAT(groups->Describe(), HasSubstr("RLIMIT_NPROC does not bind root"));
  Result<std::shared_ptr<const ToolCgroup>> run = groups->ForRun();
  EXPECT_FALSE(run.ok());

  EXPECT_FALSE(ToolCgroups::Create("/sys/fs/cgroup", 0)->available());
  EXPECT_FALSE(ToolCgroups::Create("", 64)->available());
}

// Root only, and only where this machine lets root make pids groups (v2 with pids delegated to
// the test's group, or v1's pids hierarchy); elsewhere the reason is printed.
TEST(ToolCgroupsTest, AsRootARunsProcessesJoinItsGroupAndDieWithTheRun) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::shared_ptr<ToolCgroups> groups = ToolCgroups::Create("/sys/fs/cgroup", 16);
  if (!groups->available()) GTEST_SKIP() << groups->unavailable_reason();
  std::string parent;
  {
    Result<std::shared_ptr<const ToolCgroup>> group = groups->ForRun();
    ASSERT_TRUE(group.ok()) << group.status().ToString();
    const std::string path = (*group)->path();
    parent = std::filesystem::path(path).parent_path().string();
    EXPECT_EQ(Slurp(path + "/pids.max"), "16\n");

    ProcessOptions o;
    o.argv = {"sh", "-c", "setsid sleep 1004 & cat /proc/self/cgroup"};
    o.cgroup = *group;
    o.timeout_ms = 10'000;
    Result<ProcessResult> r = RunProcess(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    // The shell ran in the run's group...
    EXPECT_THAT(r->out.Text(), HasSubstr(path.substr(path.find("/troupe-"))));
    // ...and the sleep that left its process group died with the run, leaving the group empty.
    EXPECT_TRUE(WaitNotRunning(std::string("sleep") + '\0' + "1004"));
    EXPECT_EQ(Slurp(path + "/cgroup.procs"), "");
    o.cgroup.reset();
    group->reset();
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  EXPECT_TRUE(std::filesystem::exists(parent));
  groups.reset();
  EXPECT_FALSE(std::filesystem::exists(parent));
}

}  // namespace
}  // namespace troupe
